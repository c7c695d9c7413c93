package main

import (
	"context"
	"log"
	"os"
	"sync/atomic"

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
		BorrowData: true, // Write copies what the kernel does not take
		OnData:     func(s *tcp.Socket, data []byte) { s.Write(data) },
	}, tcp.WithMulticore(true), tcp.WithReusePort(o.reuseport))
	return err
}

// link is what each socket of a proxied pair holds in its Data: its peer,
// and the pair's count of half-closes seen.
type link struct {
	peer *tcp.Socket
	eofs *atomic.Int32
}

// proxyServer relays every inbound connection to o.backend. The inbound
// socket holds its outbound peer with SetData (and the outbound one holds
// the inbound one). Each direction pauses its reader while the other
// side's output is above the high watermark and resumes it when that output
// drains (Writable). A half-close is passed on (CloseWrite) and the pair
// closes once both directions ended, so no byte in flight is lost.
func proxyServer(o *options) error {
	backend := o.backend
	_, err := tcp.Listen(o.addr, tcp.Handler{
		OnConnect: func(in *tcp.Socket) {
			in.Pause() // hold what the client sends until the backend is connected
			eofs := new(atomic.Int32)
			outH := tcp.Handler{
				BorrowData: true, // relay writes the bytes on at once
				OnData:     func(out *tcp.Socket, data []byte) { relay(out, in, data) },
				OnEOF:      func(out *tcp.Socket) { onEOF(out) },
				OnClose: func(out *tcp.Socket, err error) {
					debugf("proxy: outbound %d closed (%v), read %d wrote %d", out.ID(), err, out.BytesRead(), out.BytesWritten())
					if err != nil {
						in.Abort()
						return
					}
					in.Close()
				},
			}
			tcp.Connect(context.Background(), backend, tcp.WithHandler(outH), tcp.WithHalfOpen(true)).
				OnComplete(func(out *tcp.Socket, err error) {
					if err != nil {
						in.Abort()
						return
					}
					out.SetData(&link{peer: in, eofs: eofs})
					in.SetData(&link{peer: out, eofs: eofs})
					if in.Closed() {
						out.Close()
						return
					}
					in.Resume()
				})
		},
		BorrowData: true,
		OnData: func(in *tcp.Socket, data []byte) {
			if l, ok := in.Data().(*link); ok {
				relay(in, l.peer, data)
			}
		},
		OnEOF: func(in *tcp.Socket) {
			if _, ok := in.Data().(*link); ok {
				onEOF(in)
				return
			}
			in.Abort() // EOF before the backend answered: nothing to relay
		},
		OnClose: func(in *tcp.Socket, err error) {
			debugf("proxy: inbound %d closed (%v), read %d wrote %d", in.ID(), err, in.BytesRead(), in.BytesWritten())
			l, ok := in.Data().(*link)
			switch {
			case !ok:
			case err != nil:
				l.peer.Abort()
			default:
				l.peer.Close()
			}
		},
	}, tcp.WithMulticore(true), tcp.WithHalfOpen(true))
	return err
}

// onEOF handles src's peer half-closing. tcp reports it only after every
// byte received before the FIN reached OnData (bytes a paused socket holds
// are delivered after Resume, then the FIN), so they are already queued on
// the peer and the half-close can be passed on at once.
func onEOF(src *tcp.Socket) {
	l := src.Data().(*link)
	halfClose(src, l.peer, l.eofs)
}

// halfClose passes src's half-close on to dst once dst has written what it
// queued; after the second direction ends, both sockets close.
func halfClose(src, dst *tcp.Socket, eofs *atomic.Int32) {
	debugf("proxy: %d half-closed, passing it on to %d", src.ID(), dst.ID())
	dst.CloseWrite()
	if eofs.Add(1) == 2 {
		src.Close()
		dst.Close()
	}
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

// debugf logs when BENCH_DEBUG is set.
func debugf(format string, a ...any) {
	if os.Getenv("BENCH_DEBUG") != "" {
		log.Printf(format, a...)
	}
}
