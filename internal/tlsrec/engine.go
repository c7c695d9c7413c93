package tlsrec

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/loop"
)

// DefaultHandshakeTimeout bounds a handshake when Options leaves it zero.
const DefaultHandshakeTimeout = 10 * time.Second

// Options configure an Engine.
type Options struct {
	// HandshakeTimeout bounds the handshake from the Handshake call
	// (waiting for the ClientHello included). Zero means
	// DefaultHandshakeTimeout; negative means no bound.
	HandshakeTimeout time.Duration
	// OnOutput, when set, is called when ciphertext becomes pending after
	// none was (the owner then calls Output). During the handshake it is
	// called on the handshake's goroutine, afterwards on the goroutine that called
	// Encrypt, Receive, CloseWrite or Close. It must not block and must
	// not call into the engine synchronously; hop to the owner's loop.
	OnOutput func()
}

// Engine states.
const (
	stateNew int32 = iota
	stateWaitingHello
	stateHandshaking
	stateEstablished
	stateFailed
)

// Engine runs one TLS connection over bytes fed by its owner. After the
// handshake, its methods must be called from one goroutine at a time (the
// owner's loop); none of them blocks.
type Engine struct {
	conn     *tls.Conn
	p        *pipe
	isClient bool
	timeout  time.Duration

	state  atomic.Int32
	mu     sync.Mutex // guards the fields below (handshake start and end)
	hs     *future.Promise[struct{}]
	timer  *loop.Timer
	cause  error // why the handshake was interrupted, if it was
	stopFn func() bool
}

// Client returns an engine for the client side of a connection. cfg must
// set ServerName or InsecureSkipVerify, as for tls.Client.
func Client(cfg *tls.Config, opts Options) *Engine { return newEngine(cfg, opts, true) }

// Server returns an engine for the server side of a connection; cfg must
// provide a certificate (Certificates, GetCertificate or
// GetConfigForClient), as for tls.Server.
func Server(cfg *tls.Config, opts Options) *Engine { return newEngine(cfg, opts, false) }

func newEngine(cfg *tls.Config, opts Options, client bool) *Engine {
	if cfg == nil {
		cfg = &tls.Config{}
	}
	if cfg.Renegotiation != tls.RenegotiateNever {
		// A renegotiation would run a handshake inside Receive, where
		// reads must not block. Refuse it (Go's default).
		cfg = cfg.Clone()
		cfg.Renegotiation = tls.RenegotiateNever
	}
	e := &Engine{p: newPipe(opts.OnOutput), isClient: client, timeout: opts.HandshakeTimeout}
	if e.timeout == 0 {
		e.timeout = DefaultHandshakeTimeout
	}
	if client {
		e.conn = tls.Client(e.p, cfg)
	} else {
		e.conn = tls.Server(e.p, cfg)
	}
	return e
}

// Handshake starts the handshake (once; later calls return the same
// future) and returns a future that settles when it ends. The future
// settles on the handshake's goroutine or a timer goroutine: chain with Via to come
// back to a loop. Cancelling ctx, Close and the handshake timeout
// interrupt it; the timeout rejects with an error matching
// ErrHandshakeTimeout. Certificate failures reject with crypto/tls's own
// errors (*tls.CertificateVerificationError, x509 errors) for errors.As.
func (e *Engine) Handshake(ctx context.Context) *future.Future[struct{}] {
	e.mu.Lock()
	if e.hs != nil {
		e.mu.Unlock()
		return e.hs.Future()
	}
	e.hs = future.New[struct{}]()
	fut := e.hs.Future()
	if e.state.Load() == stateFailed {
		e.mu.Unlock()
		e.hs.Reject(ErrClosed)
		return fut
	}
	if e.timeout > 0 {
		e.timer = loop.Background().AfterFunc(e.timeout, func() { e.interrupt(ErrHandshakeTimeout) })
	}
	if ctx != nil && ctx.Done() != nil {
		e.stopFn = context.AfterFunc(ctx, func() { e.interrupt(ctx.Err()) })
	}
	if e.isClient {
		e.state.Store(stateHandshaking)
		e.mu.Unlock()
		e.run()
		return fut
	}
	e.state.Store(stateWaitingHello)
	e.mu.Unlock()
	e.maybeStart()
	return fut
}

// finish ends the handshake, on the worker that ran it (or the goroutine
// that found the pool full).
func (e *Engine) finish(_ struct{}, err error) {
	e.mu.Lock()
	e.stopTimersLocked()
	if e.cause != nil {
		err = e.cause
	}
	e.p.mu.Lock()
	e.p.onWait = nil // the handshake's goroutine ends here
	e.p.mu.Unlock()
	if err == nil {
		e.p.mu.Lock()
		e.p.blocking = false
		if e.p.off == len(e.p.in) {
			e.p.resetInLocked() // the handshake's input buffer goes
		}
		e.p.owned.Store(true) // the owner's loop alone feeds and reads now
		e.p.mu.Unlock()
		e.state.Store(stateEstablished)
	} else {
		e.state.Store(stateFailed)
		e.p.fail(ErrClosed)
	}
	hs := e.hs
	e.mu.Unlock()
	if err != nil {
		hs.Reject(err)
	} else {
		hs.Resolve(struct{}{})
	}
}

func (e *Engine) stopTimersLocked() {
	if e.timer != nil {
		e.timer.Stop()
	}
	if e.stopFn != nil {
		e.stopFn()
	}
}

// interrupt stops a pending handshake with err (timeout, cancellation,
// Close). It does nothing once the handshake has ended.
func (e *Engine) interrupt(err error) {
	e.mu.Lock()
	switch e.state.Load() {
	case stateHandshaking:
		if e.cause == nil {
			e.cause = err
		}
		e.mu.Unlock()
		e.p.fail(err) // the worker's Read returns err; finish settles
		return
	case stateWaitingHello, stateNew:
		e.state.Store(stateFailed)
		e.stopTimersLocked()
		hs := e.hs
		e.mu.Unlock()
		e.p.fail(ErrClosed)
		if hs != nil {
			hs.Reject(err)
		}
		return
	}
	e.mu.Unlock()
}

// Established reports whether the handshake has succeeded (and the engine
// has not failed since).
func (e *Engine) Established() bool { return e.state.Load() == stateEstablished }

// Receive takes ciphertext read from the transport. Before the handshake
// has finished it is buffered for the handshake (and dst is returned
// unchanged). Afterwards it is decrypted at once: the plaintext of every
// complete record is appended to dst; a partial record is kept for the
// next call. p is only read during the call. The error is io.EOF when the
// peer sent close_notify (or closed the transport at a record boundary),
// else crypto/tls's error (a bad record MAC, an alert from the peer).
// Output may be pending afterwards (a KeyUpdate reply).
func (e *Engine) Receive(dst, p []byte) ([]byte, error) {
	switch e.state.Load() {
	case stateEstablished:
	case stateFailed:
		return dst, ErrClosed
	default:
		e.p.feed(p)
		if e.state.Load() == stateWaitingHello {
			e.maybeStart()
		}
		return dst, nil
	}
	// The input is the loop's own now (pipe.owned): no lock.
	e.p.borrow = p
	var err error
	if e.p.readyLocked() {
		dst, err = e.decrypt(dst)
	}
	e.p.keepBorrowedLocked()
	return dst, err
}

// Feed buffers ciphertext for the handshake or for the next Receive or
// Drain, without decrypting it (p is copied). An owner uses it for bytes
// that arrive after the handshake ended but before it has taken over the
// connection, so that Drain then decrypts them in order.
func (e *Engine) Feed(p []byte) {
	if e.state.Load() == stateFailed {
		return
	}
	e.p.feed(p)
	if e.state.Load() == stateWaitingHello {
		e.maybeStart()
	}
}

// maybeStart starts a server handshake once the ClientHello is complete.
func (e *Engine) maybeStart() {
	e.p.mu.Lock()
	ready := helloReady(e.p.in[e.p.off:]) || e.p.eof
	e.p.mu.Unlock()
	if !ready {
		return
	}
	e.mu.Lock()
	start := e.state.Load() == stateWaitingHello
	if start {
		e.state.Store(stateHandshaking)
	}
	e.mu.Unlock()
	if start {
		e.run()
	}
}

// Drain decrypts what arrived before and with the end of the handshake
// (application data that followed the peer's Finished). Call it once the
// handshake future has resolved, on the owner's loop.
func (e *Engine) Drain(dst []byte) ([]byte, error) {
	if e.state.Load() != stateEstablished {
		return dst, nil
	}
	if !e.p.readyLocked() { // owned input: no lock
		return dst, nil
	}
	return e.decrypt(dst)
}

// minRead is the free space decrypt keeps in dst for one record.
const minRead = 16 << 10

// decrypt reads the tls.Conn until it would block. The caller saw input
// (or its end) buffered in the pipe. After a Read that returned bytes,
// the pipe tells whether another could make progress (pipe.more): a Read
// that could only say "would block" is skipped. That is the common end of
// a batch (each socket read holding whole records) and saves a Read call
// per batch: crypto/tls's locks, its read of the header, an allocation
// and the error return. Every Read has at least minRead bytes of room, so
// crypto/tls keeps no plaintext of a record between calls.
func (e *Engine) decrypt(dst []byte) ([]byte, error) {
	for {
		if cap(dst)-len(dst) < minRead {
			grown := make([]byte, len(dst), 2*cap(dst)+minRead)
			copy(grown, dst)
			dst = grown
		}
		e.p.more = true // unless the pipe's Read says otherwise
		n, err := e.conn.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err == nil {
			if !e.p.more {
				return dst, nil
			}
			continue
		}
		if err == errWouldBlock {
			return dst, nil
		}
		return dst, err
	}
}

// ReceiveEOF records that the transport reached end of stream. Before the
// handshake ends, the handshake fails; afterwards the next Receive or
// Drain returns io.EOF (or io.ErrUnexpectedEOF inside a record).
func (e *Engine) ReceiveEOF() {
	e.p.closeInput()
	if e.state.Load() == stateWaitingHello {
		e.maybeStart()
	}
}

// Encrypt seals p into records and appends them, together with any
// output already pending, to dst.
func (e *Engine) Encrypt(dst, p []byte) ([]byte, error) {
	switch e.state.Load() {
	case stateEstablished:
	case stateFailed:
		return dst, ErrClosed
	default:
		return dst, ErrHandshakeNotDone
	}
	// The records go straight into dst (after any pending output): the
	// pipe's buffer is swapped for dst during the call, and no OnOutput
	// notification is made, since the caller takes the result.
	n0 := len(dst)
	e.p.mu.Lock()
	pending := e.p.out
	e.p.out = append(dst, pending...)
	e.p.quiet = true
	e.p.mu.Unlock()
	_, err := e.conn.Write(p)
	e.p.mu.Lock()
	out := e.p.out
	e.p.out = nil
	e.p.quiet = false
	if err != nil && len(out) > n0 {
		// Keep what is pending (an alert, a close_notify) for Output.
		e.p.out = append([]byte(nil), out[n0:]...)
		out = out[:n0]
	}
	e.p.mu.Unlock()
	return out, err
}

// Output appends the pending ciphertext (handshake flights, alerts,
// close_notify, KeyUpdate replies, records sealed by Encrypt) to dst and
// clears it.
func (e *Engine) Output(dst []byte) []byte { return e.p.take(dst) }

// Buffered reports how many received bytes wait in the engine for the
// handshake or for Drain (an owner stops reading above its bound). Call
// it where Receive is called (once the handshake has ended the input
// belongs to that goroutine).
func (e *Engine) Buffered() int {
	if e.p.lockIn() {
		defer e.p.mu.Unlock()
	}
	return len(e.p.in) - e.p.off
}

// Pending reports how many bytes of ciphertext wait for Output.
func (e *Engine) Pending() int { return e.p.pending() }

// CloseWrite sends close_notify (collect it with Output): this side will
// send nothing more, and the peer reads EOF. In TLS 1.3 the peer may go on
// sending and this side can go on reading (RFC 8446, 6.1). In TLS 1.2 the
// peer is asked to answer with its own close_notify and may drop the rest
// of its data (RFC 5246, 7.2.1); Go's crypto/tls peers go on sending, so
// reading still works against them.
func (e *Engine) CloseWrite() error {
	switch e.state.Load() {
	case stateEstablished:
	case stateFailed:
		return ErrClosed
	default:
		return ErrHandshakeNotDone
	}
	return e.conn.CloseWrite()
}

// Close ends the connection: after an established handshake it queues
// close_notify (collect it with Output); during a handshake it interrupts
// it (the handshake rejects with ErrClosed). Later calls return ErrClosed.
func (e *Engine) Close() error {
	switch e.state.Load() {
	case stateEstablished:
		e.state.Store(stateFailed)
		// tls.Conn.Close writes close_notify through the pipe, then
		// closes the pipe.
		err := e.conn.Close()
		if errors.Is(err, ErrClosed) {
			err = nil
		}
		return err
	case stateFailed:
		return ErrClosed
	default:
		e.interrupt(ErrClosed)
		return nil
	}
}

// State returns the connection state (version, cipher suite, ALPN
// protocol, peer certificates, resumption). It is meaningful once the
// handshake has resolved.
func (e *Engine) State() tls.ConnectionState { return e.conn.ConnectionState() }

var _ io.Writer = (*pipe)(nil)
