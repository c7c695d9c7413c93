// Package tcp is asynchronous TCP and unix-socket I/O as futures, over
// goasync's event loops (built on gnet's public poller): cl-async's
// tcp-connect, tcp-send and tcp-server, conserv's sockets and servers,
// done the Go way.
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
// # Proxies, goroutine code, TLS
//
// Relay joins two sockets both ways (backpressure, half-close passed on,
// a reset when one side fails) and returns a future of what it moved.
// Socket.NetConn is a blocking net.Conn view for goroutine code (bufio,
// crypto/tls, net/http). WithTLS encrypts a socket with Go's crypto/tls
// (the handshake on a goroutine of its own, records on the loop);
// StartTLS upgrades an open one.
//
// # Flow control and closing
//
// The package keeps its own output queue (exact write futures, watermarks,
// a cap). A paused socket, or one whose unread input reaches its bound,
// stops reading, so TCP flow control holds the peer back, also after this
// side half-closed. Close is graceful (queued output, then FIN); Abort
// resets (the peer reads ECONNRESET); CloseWrite half-closes with
// shutdown(2) on the one descriptor. A cancelled read leaves the stream
// untouched. docs/tcp.md tells why and how.
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
