// Package tcp is asynchronous TCP and unix-socket I/O as futures, over the
// gnet event loops of goasync's runtime: cl-async's tcp-connect, tcp-send
// and tcp-server, conserv's sockets and servers, done the Go way.
//
//	s, err := tcp.Connect(ctx, "127.0.0.1:7").Await(ctx)   // or chain with future.Then
//	s.WriteString("ping\n")                                // future: the bytes left user space
//	line := s.ReadLine()                                   // future: the next line
//
// Servers take a Handler (connect, data, EOF and close events):
//
//	srv, err := tcp.Listen(":7", tcp.Handler{
//		OnData: func(s *tcp.Socket, data []byte) { s.Write(data) },
//	})
//
// # Goroutines
//
// Every socket belongs to one event loop. Its Handler callbacks, and the
// futures it settles itself (reads, writes that had to wait, Close,
// Writable), run on that loop, in order, and must not block; chain
// futures instead of calling Await there (Await fails with
// future.ErrAwaitOnLoop on a loop). Socket methods are safe from any
// goroutine. Connect never blocks its caller or a loop.
//
// # What this package adds to gnet
//
// gnet reads without bound, has no timeouts, drops queued output when the
// peer half-closes, and closes a connection as soon as it reads EOF. The
// package keeps its own output queue (exact write futures, watermarks, a
// cap), writes to the descriptor itself and learns writability from a small
// epoll poller of the runtime, bounds what a paused or unread socket
// buffers, implements read, write and idle timeouts with one timer per
// socket, and keeps the write side of a socket alive after the peer's FIN by
// duplicating the descriptor before gnet closes it. docs/tcp.md tells why
// and how.
//
// # Errors
//
// Failures are *OpError values wrapping the cause; match them with
// errors.Is against ErrRefused, ErrReset, ErrTimeout (also
// future.ErrTimeout), ErrClosed (also net.ErrClosed), ErrBufferFull,
// ErrDNS and ErrAccept, or against the operating-system error
// (syscall.ECONNREFUSED, ...). A clean close by the peer is io.EOF for
// pending reads.
package tcp
