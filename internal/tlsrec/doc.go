// Package tlsrec drives Go's crypto/tls, unchanged, from an event loop.
//
// An Engine wraps a *tls.Conn whose transport is an in-memory pipe instead
// of a socket. The owner (a goasync socket) feeds the ciphertext it reads
// with Receive and sends whatever Output returns; plaintext goes in through
// Encrypt and comes out of Receive.
//
// The handshake runs on the blocking-work pool (future.Go) with the pipe in
// blocking mode: its reads wait for bytes fed from the loop. When it
// succeeds, the pipe switches to nonblocking mode and every later call runs
// on the owner's loop without blocking: when crypto/tls asks for more bytes
// than were fed, the pipe answers with a net.Error whose Temporary method
// reports true. crypto/tls keeps its record state across such errors (only
// non-temporary read errors are sticky), so the next Receive continues the
// partial record. TestTemporaryErrorContract pins that behaviour of the Go
// release in use; docs/tls.md says what the fallback would be.
//
// A server engine waits until a whole ClientHello has arrived before it
// takes a worker, so connections that send nothing or a partial hello cost
// no goroutine.
package tlsrec
