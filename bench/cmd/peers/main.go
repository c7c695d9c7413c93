// Command peers runs the servers that goasync is measured against. Each kind
// listens on -addr, prints "ready" on standard output once listening, and runs
// until it is killed.
//
//	peers -kind netecho    Go net echo, one goroutine per connection
//	peers -kind gnetecho   raw gnet echo
//	peers -kind nethttp    net/http "hello"
//	peers -kind fasthttp   fasthttp "hello"
//	peers -kind gnethttp   a minimal raw gnet HTTP/1.1 responder (pipelining-safe)
//	peers -kind copyproxy  a TCP proxy to -backend, two goroutines doing io.Copy
//	peers -kind netdelay   Go net delay server: reply after -delay, then close
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/goasync/goasync/bench/internal/proc"
)

func main() {
	kind := flag.String("kind", "", "server kind (see the package doc)")
	addr := flag.String("addr", "127.0.0.1:9000", "listen address")
	backend := flag.String("backend", "", "backend address for copyproxy")
	delay := flag.Duration("delay", 5*time.Second, "reply delay for netdelay")
	reuseport := flag.Bool("reuseport", false, "listen with SO_REUSEPORT (several processes on one port)")
	flag.Parse()
	if _, err := proc.RaiseNoFile(); err != nil {
		log.Printf("peers: raise RLIMIT_NOFILE: %v", err)
	}
	var err error
	switch *kind {
	case "netecho":
		err = netEcho(*addr, *reuseport)
	case "gnetecho":
		err = gnetEcho(*addr, *reuseport)
	case "nethttp":
		err = netHTTP(*addr)
	case "fasthttp":
		err = fastHTTP(*addr)
	case "gnethttp":
		err = gnetHTTP(*addr)
	case "copyproxy":
		err = copyProxy(*addr, *backend)
	case "netdelay":
		err = netDelay(*addr, *delay)
	default:
		err = fmt.Errorf("unknown -kind %q", *kind)
	}
	if err != nil {
		log.Fatalf("peers %s: %v", *kind, err)
	}
}

// listen opens a TCP listener, with SO_REUSEPORT when asked.
func listen(addr string, reuseport bool) (net.Listener, error) {
	lc := net.ListenConfig{}
	if reuseport {
		lc.Control = func(_, _ string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, 0x0F /* SO_REUSEPORT */, 1)
			})
			if err != nil {
				return err
			}
			return serr
		}
	}
	return lc.Listen(context.Background(), "tcp", addr)
}

// acceptLoop accepts until the listener fails for good; temporary errors
// (EMFILE) are retried after a short pause instead of ending the server.
func acceptLoop(ln net.Listener, serve func(net.Conn)) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			if isTemporary(err) {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			return err
		}
		go serve(c)
	}
}

func isTemporary(err error) bool {
	for _, e := range []error{syscall.EMFILE, syscall.ENFILE, syscall.ECONNABORTED, syscall.EINTR} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func netEcho(addr string, reuseport bool) error {
	ln, err := listen(addr, reuseport)
	if err != nil {
		return err
	}
	proc.Ready()
	return acceptLoop(ln, func(c net.Conn) {
		defer c.Close()
		buf := make([]byte, 4096)
		for {
			n, err := c.Read(buf)
			if n > 0 {
				if _, werr := c.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	})
}

func netDelay(addr string, delay time.Duration) error {
	ln, err := listen(addr, false)
	if err != nil {
		return err
	}
	proc.Ready()
	return acceptLoop(ln, func(c net.Conn) {
		defer c.Close()
		buf := make([]byte, 512)
		if _, err := c.Read(buf); err != nil {
			return
		}
		time.Sleep(delay)
		_, _ = c.Write(delayResponse)
	})
}

// delayResponse is the reply of cl-async's benchmark server.
var delayResponse = []byte("HTTP/1.1 200 OK\r\nDate: Wed, 03 Oct 2012 23:43:10 GMT\r\n" +
	"Content-Type: text/plain\r\nContent-Length: 9\r\n\r\nomglolwtf")

func init() {
	log.SetFlags(0)
	log.SetOutput(os.Stderr)
}
