package main

import (
	"context"

	"github.com/goasync/goasync/tcp"
	"github.com/goasync/goasync/timer"
)

func init() {
	register("echo", kind{run: echoServer})
	register("proxy", kind{run: proxyServer})
	register("delay", kind{run: delayServer})
}

// echoServer writes every received chunk back.
func echoServer(o *options) error {
	_, err := tcp.Listen(o.addr, tcp.Handler{
		OnData: func(s *tcp.Socket, data []byte) { s.Write(data) },
	}, tcp.WithMulticore(true), tcp.WithReusePort(o.reuseport))
	return err
}

// proxyServer relays every inbound connection to o.backend. The inbound
// socket holds its outbound peer with SetData; each direction pauses its
// reader while the other side's output is above the high watermark and
// resumes it when the output drains (Writable).
func proxyServer(o *options) error {
	backend := o.backend
	_, err := tcp.Listen(o.addr, tcp.Handler{
		OnConnect: func(in *tcp.Socket) {
			in.Pause() // hold what the client sends until the backend is connected
			outH := tcp.Handler{
				OnData:  func(out *tcp.Socket, data []byte) { relay(out, in, data) },
				OnClose: func(*tcp.Socket, error) { in.Close() },
			}
			tcp.Connect(context.Background(), backend, tcp.WithHandler(outH)).OnComplete(func(out *tcp.Socket, err error) {
				if err != nil {
					in.Abort()
					return
				}
				in.SetData(out)
				if in.Closed() {
					out.Close()
					return
				}
				in.Resume()
			})
		},
		OnData: func(in *tcp.Socket, data []byte) {
			if out, ok := in.Data().(*tcp.Socket); ok {
				relay(in, out, data)
			}
		},
		OnClose: func(in *tcp.Socket, _ error) {
			if out, ok := in.Data().(*tcp.Socket); ok {
				out.Close()
			}
		},
	}, tcp.WithMulticore(true))
	return err
}

// relay writes data from src to dst, pausing src while dst's output is
// above its high watermark.
func relay(src, dst *tcp.Socket, data []byte) {
	dst.Write(data)
	w := dst.Writable()
	if _, _, done := w.Result(); done {
		return
	}
	src.Pause()
	w.OnComplete(func(struct{}, error) { src.Resume() })
}

// delayResponse is the reply of cl-async's benchmark server.
var delayResponse = []byte("HTTP/1.1 200 OK\r\nDate: Wed, 03 Oct 2012 23:43:10 GMT\r\n" +
	"Content-Type: text/plain\r\nContent-Length: 9\r\n\r\nomglolwtf")

// delayServer is cl-async's benchmark: on a request, wait o.delay on a timer
// future, then write the response and close (gracefully: Close waits until
// the response reached the kernel).
func delayServer(o *options) error {
	d := o.delay
	_, err := tcp.Listen(o.addr, tcp.Handler{
		OnData: func(s *tcp.Socket, _ []byte) {
			if s.Data() != nil {
				return // one reply per connection
			}
			s.SetData(true)
			// A timer future delivered on this socket's loop.
			timer.Delay(d, timer.On(s.Executor())).OnComplete(func(struct{}, error) {
				if s.Closed() {
					return
				}
				s.Write(delayResponse)
				s.Close()
			})
		},
	}, tcp.WithMulticore(true))
	return err
}
