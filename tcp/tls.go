package tcp

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/tlsrec"
)

// DefaultHandshakeTimeout bounds a TLS handshake unless
// WithHandshakeTimeout says otherwise.
const DefaultHandshakeTimeout = tlsrec.DefaultHandshakeTimeout

// WithTLS makes the socket speak TLS with Go's crypto/tls. For Connect
// (and Send) it is the client configuration: an empty ServerName is set
// to the host being dialled, and the peer's certificate is verified
// unless cfg says otherwise (cfg nil means a default client config). The
// Connect future resolves after the handshake; certificate failures
// reject it with crypto/tls's errors (*tls.CertificateVerificationError,
// x509 errors) for errors.As, a handshake timeout with an error matching
// ErrTimeout.
//
// For Listen it is the server configuration (a certificate through
// Certificates, GetCertificate or GetConfigForClient: SNI works as in
// crypto/tls). OnConnect runs once the handshake succeeded; a connection
// whose handshake fails never reaches the handler (no OnConnect, OnData
// or OnClose) and is closed after the alert is sent. The handshake runs
// on a goroutine of its own, records are encrypted and decrypted on the
// socket's loop (docs/tls.md). cfg must not be modified afterwards.
func WithTLS(cfg *tls.Config) Option {
	return func(c *config) {
		if cfg == nil {
			cfg = &tls.Config{}
		}
		c.tls = cfg
	}
}

// WithHandshakeTimeout bounds TLS handshakes (from the TCP connection or
// StartTLS to the end of the handshake). Zero means
// DefaultHandshakeTimeout; negative means no bound.
func WithHandshakeTimeout(d time.Duration) Option {
	return func(c *config) { c.handshakeTimeout = d }
}

// tlsConn is a socket's TLS state.
type tlsConn struct {
	e     *tlsrec.Engine
	ready *future.Promise[struct{}] // settles after the handshake (and OnConnect)
	eof   bool                      // close_notify (or the end) was read; loop only
	done  atomic.Bool               // this side closed the engine (Close)
	// inWorker: the handshake runs on its goroutine, which is the only
	// goroutine producing output meanwhile.
	inWorker atomic.Bool
	// live: the handshake's end has been handled on the loop; before,
	// received bytes are only buffered in the engine, so that nothing is
	// delivered ahead of OnConnect and Drain keeps them in order. Loop
	// only.
	live bool
	// held: reading is off because more than maxEarly bytes arrived
	// before the handshake's end was handled (under the socket's mu).
	held bool
	// eofPending: the peer's FIN came before the handshake's end was
	// handled; it is delivered after the bytes before it. Loop only.
	eofPending bool
}

// ConnectionState returns the TLS connection state: version, cipher
// suite, negotiated ALPN protocol, server name, peer certificates,
// resumption. For a socket without TLS, or before the handshake ended,
// HandshakeComplete is false.
func (s *Socket) ConnectionState() tls.ConnectionState {
	s.mu.Lock()
	t := s.tls
	s.mu.Unlock()
	if t == nil || !t.e.Established() {
		return tls.ConnectionState{}
	}
	return t.e.State()
}

// StartTLS upgrades an open plaintext socket to TLS (the STARTTLS of
// SMTP, IMAP, XMPP; PostgreSQL's SSLRequest): a socket made by Connect
// becomes the client, one accepted by a Server the server. cfg follows
// WithTLS's rules (for a client an empty ServerName is the dialled host).
// The future resolves once the handshake succeeded, on the socket's loop.
//
// Call it when the plaintext exchange is over. Bytes received and not
// yet read when it runs (a ClientHello sent right behind the STARTTLS
// command, left in the socket's buffer after ReadLine took the command)
// are TLS: they go to the handshake, as everything received later does.
// Bytes already handed to OnData or to a read stay plaintext. Writes
// between the call and the future's resolution fail; chain them on the
// future. A failed handshake closes the socket (OnClose runs with the
// error).
func (s *Socket) StartTLS(cfg *tls.Config) *future.Future[struct{}] {
	if cfg == nil {
		cfg = &tls.Config{}
	}
	p := future.New[struct{}]()
	start := func() {
		s.mu.Lock()
		if s.state != stOpen || s.wrShut {
			err := s.closedErrLocked()
			s.mu.Unlock()
			p.Reject(opError("handshake", s.peer(), err))
			return
		}
		if s.tls != nil {
			s.mu.Unlock()
			p.Reject(opError("handshake", s.peer(), errors.New("tcp: StartTLS on a TLS socket")))
			return
		}
		// Bytes no read has taken are the start of the TLS stream.
		var early []byte
		if s.inOff < len(s.in) {
			early = s.in[s.inOff:]
			s.in, s.inOff = nil, 0
			s.syncReadingLocked() // they no longer hold reading back
		}
		s.mu.Unlock()
		s.beginTLSAfter(cfg, s.srv != nil, p, false, early)
	}
	if s.lp == nil || s.onOwnLoop() {
		start()
	} else {
		s.lp.Execute(start)
	}
	return p.Future()
}

// clientConfig fills ServerName with the dialled host.
func clientConfig(cfg *tls.Config, addr string) *tls.Config {
	if cfg.ServerName != "" || cfg.InsecureSkipVerify {
		return cfg
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return cfg
	}
	cfg = cfg.Clone()
	cfg.ServerName = host
	return cfg
}

// beginTLS creates the engine and starts the handshake; it runs on the
// socket's loop. atOpen: the socket has just connected and its handler
// waits for the handshake (WithTLS); else it is StartTLS.
func (s *Socket) beginTLS(cfg *tls.Config, server bool, ready *future.Promise[struct{}], atOpen bool) {
	s.beginTLSAfter(cfg, server, ready, atOpen, nil)
}

// beginTLSAfter is beginTLS with early: the bytes received before
// StartTLS that no read took (the engine takes them as the start of the
// TLS stream).
func (s *Socket) beginTLSAfter(cfg *tls.Config, server bool, ready *future.Promise[struct{}], atOpen bool, early []byte) {
	t := &tlsConn{ready: ready}
	opts := tlsrec.Options{
		HandshakeTimeout: s.cfg.handshakeTimeout,
		OnOutput: func() {
			if t.inWorker.Load() {
				// A flight of the handshake, on its goroutine: send it
				// from there (socket writes are safe from any goroutine),
				// which saves a trip through the loop per flight.
				s.flushTLS()
				return
			}
			// Else the caller may hold the socket's lock (Close): flush
			// in a task of its own.
			s.lp.Execute(s.flushTLS)
		},
	}
	if server {
		t.e = tlsrec.Server(cfg, opts)
	} else {
		t.e = tlsrec.Client(clientConfig(cfg, s.peer()), opts)
	}
	if len(early) > 0 {
		t.e.Feed(early)
	}
	s.mu.Lock()
	s.tls = t
	s.mu.Unlock()
	t.inWorker.Store(true)
	hs := t.e.Handshake(context.Background())
	hs.OnComplete(func(struct{}, error) { t.inWorker.Store(false) }) // first, on the worker
	hs.Via(s.lp).OnComplete(func(_ struct{}, err error) {
		s.flushTLS() // the last flight, or the alert
		if err != nil {
			err = opError("handshake", s.peer(), err)
			s.fail(err)
			ready.Reject(err)
			return
		}
		t.live = true
		if t.held {
			s.mu.Lock()
			t.held = false
			s.syncReadingLocked()
			s.mu.Unlock()
		}
		if atOpen {
			s.h = &s.cfg.handler
			s.opened()
		}
		ready.Resolve(struct{}{})
		// Records that came with the peer's Finished.
		b := getBuf()
		plain, err := t.e.Drain((*b)[:0])
		s.tlsDeliver(t, plain, err)
		putBuf(b, plain)
		if t.eofPending {
			t.eofPending = false
			s.onEOF()
		}
	})
}

// flushTLS sends the engine's pending output; it runs on the loop.
func (s *Socket) flushTLS() {
	s.mu.Lock()
	t := s.tls
	if t == nil || s.state == stClosed || s.closeErr != nil {
		s.mu.Unlock()
		return
	}
	out := t.e.Output(nil)
	if len(out) == 0 {
		s.mu.Unlock()
		return
	}
	_, done := s.writeLocked(out)
	s.mu.Unlock()
	run(done)
}

// maxEarly bounds what a TLS socket reads before its handshake has ended:
// beyond it, reading stops until it has.
const maxEarly = 256 << 10

// tlsHeldLocked reports whether reading is held for the handshake.
func (s *Socket) tlsHeldLocked() bool { return s.tls != nil && s.tls.held }

// bufPool holds the buffers records are decrypted into and sealed into,
// so that an idle TLS socket keeps none.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 32<<10); return &b }}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte, used []byte) {
	if cap(used) <= 256<<10 {
		*b = used[:0]
		bufPool.Put(b)
	}
}

// openTLS decrypts bytes read from the socket and delivers the
// plaintext. Loop only.
func (s *Socket) openTLS(t *tlsConn, buf []byte) {
	if t.eof || t.done.Load() {
		return // nothing is read after close_notify or Close
	}
	if !t.live {
		t.e.Feed(buf)
		if !t.held && t.e.Buffered() > maxEarly {
			// The peer sends faster than the handshake ends: stop
			// reading (TCP flow control) until it has.
			s.mu.Lock()
			t.held = true
			s.syncReadingLocked()
			s.mu.Unlock()
		}
		return
	}
	b := getBuf()
	plain, err := t.e.Receive((*b)[:0], buf)
	s.tlsDeliver(t, plain, err)
	putBuf(b, plain)
}

// tlsDeliver hands decrypted plaintext to the reads (received copies
// what it keeps, and lends OnData the bytes only for the call).
func (s *Socket) tlsDeliver(t *tlsConn, plain []byte, err error) {
	if len(plain) > 0 {
		s.received(plain)
	}
	if err != nil {
		s.tlsFailRead(t, err)
	}
}

// tlsEOF tells the engine that the peer's FIN came: a handshake in
// progress fails at once, and a record cut by the FIN is a truncation
// (the socket fails with io.ErrUnexpectedEOF). It reports whether it
// failed the socket. Loop only.
func (s *Socket) tlsEOF(t *tlsConn) bool {
	t.e.ReceiveEOF()
	if !t.live {
		// The FIN ends the stream after the bytes before it, which wait
		// in the engine: it is handled once the handshake's end is.
		t.eofPending = true
		return true
	}
	if t.eof || t.done.Load() {
		return false
	}
	b := getBuf()
	plain, err := t.e.Drain((*b)[:0])
	if len(plain) > 0 {
		s.received(plain)
	}
	putBuf(b, plain)
	if err == nil || err == io.EOF {
		t.eof = true
		return false
	}
	s.fail(opError("read", s.peer(), err))
	return true
}

// tlsClosed returns what a closing socket does to its engine: a handshake
// still running is interrupted, so its goroutine ends.
func (s *Socket) tlsClosed(t *tlsConn) func() {
	return func() {
		if !t.e.Established() {
			t.e.Close()
		}
	}
}

// tlsFailRead handles a read error of the engine: close_notify ends the
// input (the TCP FIN that follows closes as usual); anything else (a bad
// record, an alert from the peer) fails the socket after the alert went
// out.
func (s *Socket) tlsFailRead(t *tlsConn, err error) {
	if errors.Is(err, io.EOF) {
		t.eof = true
		return
	}
	s.flushTLS()
	s.fail(opError("read", s.peer(), err))
}

// sealLocked encrypts p (with any pending engine output before it) into
// a pooled buffer; the caller gives it back with putBuf once writeLocked
// has copied what the kernel did not take.
func (s *Socket) sealLocked(p []byte) (*[]byte, []byte, error) {
	b := getBuf()
	ct, err := s.tls.e.Encrypt((*b)[:0], p)
	return b, ct, err
}

// closeNotifyLocked queues close_notify before a Close or CloseWrite, or
// interrupts a handshake in progress.
func (s *Socket) closeNotifyLocked(half bool) []func() {
	e := s.tls.e
	if !half {
		s.tls.done.Store(true)
	}
	if !e.Established() {
		return []func(){func() { e.Close() }}
	}
	if half {
		_ = e.CloseWrite()
	} else {
		_ = e.Close()
	}
	out := e.Output(nil)
	if len(out) == 0 {
		return nil
	}
	_, done := s.writeLocked(out)
	return done
}

// handshaken returns a future of the socket once its WithTLS handshake
// (started when it connected) has ended.
func (s *Socket) handshaken(*Socket) *future.Future[*Socket] {
	s.mu.Lock()
	t := s.tls
	s.mu.Unlock()
	if t == nil { // closed before it could start
		return future.Rejected[*Socket](opError("handshake", s.peer(), ErrClosed))
	}
	return future.Then(t.ready.Future(), func(struct{}) (*Socket, error) { return s, nil })
}
