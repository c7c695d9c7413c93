// Package tlsrec drives Go's crypto/tls, unchanged, from an event loop.
//
// An Engine wraps a *tls.Conn whose transport is an in-memory pipe instead
// of a socket. The owner (a goasync socket) feeds the ciphertext it reads
// with Receive and sends whatever Output returns; plaintext goes in through
// Encrypt and comes out of Receive.
//
// The handshake runs on a goroutine of its own (at most 4,096 at once that
// are not waiting for the peer, a FIFO behind them) with the pipe in
// blocking mode: its reads wait for bytes fed from the loop, and a wait
// gives the admission slot back. When it succeeds, the pipe switches to
// nonblocking mode and every later call runs on the owner's loop without
// blocking: when crypto/tls asks for more bytes than were fed, the pipe
// answers with a net.Error whose Temporary method reports true. crypto/tls
// keeps its record state across such errors (only non-temporary read errors
// are sticky), so the next Receive continues the partial record. The pipe
// hands crypto/tls one record at a time, so when nothing is buffered no
// Read is made that could only say "would block".
// TestTemporaryErrorContract pins that behaviour of the Go release in use;
// docs/tls.md says what the fallback would be.
//
// A server engine waits until a whole ClientHello has arrived before it
// starts the handshake, so connections that send nothing or a partial
// hello cost no goroutine; one that stalls later costs a parked goroutine
// until the handshake timeout, and no slot.
package tlsrec
