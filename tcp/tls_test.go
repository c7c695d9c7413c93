package tcp

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/tlstest"
)

func tlsAwait[T any](t testing.TB, f *future.Future[T]) (T, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v, err := f.Await(ctx)
	if ctx.Err() != nil {
		t.Fatal("future did not settle in time")
	}
	return v, err
}

// tlsListen starts a TLS server on a free loopback port.
func tlsListen(t testing.TB, cfg *tls.Config, h Handler, opts ...ListenOption) *Server {
	t.Helper()
	return listen(t, nil, h, append([]ListenOption{WithTLS(cfg)}, opts...)...)
}

// goTLSServer runs a Go crypto/tls server: each connection gets serve.
func goTLSServer(t testing.TB, cfg *tls.Config, serve func(c *tls.Conn)) string {
	t.Helper()
	ln := goListener(t)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				tc := tls.Server(c, cfg)
				defer tc.Close()
				serve(tc)
			}()
		}
	}()
	return ln.Addr().String()
}

func goEcho(c *tls.Conn) { io.Copy(c, c) }

func TestTLSConnectGoServer(t *testing.T) {
	p := tlstest.Get(t)
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		scfg := tlstest.ServerConfig(p.Localhost, v, v)
		scfg.NextProtos = []string{"echo/1"}
		addr := goTLSServer(t, scfg, goEcho)
		// The ServerName defaults to the dialled host: 127.0.0.1, an IP
		// SAN of the certificate, and localhost by name.
		_, port, _ := net.SplitHostPort(addr)
		for _, host := range []string{"127.0.0.1", "localhost"} {
			ccfg := p.ClientConfig("", v, v)
			ccfg.NextProtos = []string{"echo/1"}
			s, err := tlsAwait(t, Connect(context.Background(), net.JoinHostPort(host, port), WithTLS(ccfg)))
			if err != nil {
				t.Fatalf("%x %s: %v", v, host, err)
			}
			st := s.ConnectionState()
			sni := host // no SNI for an IP address (RFC 6066)
			if net.ParseIP(host) != nil {
				sni = ""
			}
			if !st.HandshakeComplete || st.Version != v || st.NegotiatedProtocol != "echo/1" ||
				st.ServerName != sni || len(st.PeerCertificates) == 0 {
				t.Fatalf("state: %+v", st)
			}
			s.WriteString("hello over tls\n")
			line, err := tlsAwait(t, s.ReadLine())
			if err != nil || string(line) != "hello over tls" {
				t.Fatalf("%q %v", line, err)
			}
			big := strings.Repeat("0123456789", 100000)
			s.WriteString(big)
			got, err := tlsAwait(t, s.ReadN(len(big)))
			if err != nil || string(got) != big {
				t.Fatalf("1 MB echo: %v", err)
			}
			if _, err := tlsAwait(t, s.Close()); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestTLSListenGoClient(t *testing.T) {
	p := tlstest.Get(t)
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		scfg := tlstest.ServerConfig(p.Localhost, v, v)
		scfg.NextProtos = []string{"http/1.1"}
		states := make(chan tls.ConnectionState, 1)
		srv := tlsListen(t, scfg, Handler{
			OnConnect: func(s *Socket) { states <- s.ConnectionState() },
			OnData:    func(s *Socket, data []byte) { s.Write(data) },
		})
		ccfg := p.ClientConfig("localhost", v, v)
		ccfg.NextProtos = []string{"http/1.1"}
		c, err := tls.Dial("tcp", srv.Addr().String(), ccfg)
		if err != nil {
			t.Fatal(err)
		}
		st := <-states
		if st.Version != v || st.NegotiatedProtocol != "http/1.1" || st.ServerName != "localhost" {
			t.Fatalf("server state %+v", st)
		}
		r := bufio.NewReader(c)
		for i := range 50 {
			msg := strings.Repeat("x", i*997) + "\n"
			c.Write([]byte(msg))
			line, err := r.ReadString('\n')
			if err != nil || line != msg {
				t.Fatalf("echo %d: %v", i, err)
			}
		}
		c.Close()
	}
}

func TestTLSSNIListen(t *testing.T) {
	p := tlstest.Get(t)
	certs := map[string]*tls.Certificate{"a.test": &p.A, "b.test": &p.B}
	srv := tlsListen(t, &tls.Config{GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
		return certs[h.ServerName], nil
	}}, Handler{OnData: func(s *Socket, data []byte) { s.Write(data) }})
	for name := range certs {
		// Our client, verifying the name (ServerName given: the dialled
		// host is an IP).
		s, err := tlsAwait(t, Connect(context.Background(), srv.Addr().String(), WithTLS(p.ClientConfig(name, 0, 0))))
		if err != nil {
			t.Fatal(err)
		}
		if got := s.ConnectionState().PeerCertificates[0].DNSNames[0]; got != name {
			t.Fatalf("asked %s, got %s", name, got)
		}
		s.Close()
	}
}

func TestTLSCertificateErrors(t *testing.T) {
	p := tlstest.Get(t)
	cases := []struct {
		name string
		cert tls.Certificate
		ok   func(error) bool
	}{
		{"unknown CA", p.Untrusted, func(err error) bool { return errors.As(err, new(x509.UnknownAuthorityError)) }},
		{"wrong host", p.A, func(err error) bool { return errors.As(err, new(x509.HostnameError)) }},
		{"expired", p.Expired, func(err error) bool {
			var e x509.CertificateInvalidError
			return errors.As(err, &e) && e.Reason == x509.Expired
		}},
	}
	for _, c := range cases {
		addr := goTLSServer(t, tlstest.ServerConfig(c.cert, 0, 0), func(tc *tls.Conn) { tc.Handshake() })
		_, err := tlsAwait(t, Connect(context.Background(), addr, WithTLS(p.ClientConfig("", 0, 0))))
		var cve *tls.CertificateVerificationError
		var oe *OpError
		if !errors.As(err, &cve) || !c.ok(err) || !errors.As(err, &oe) || oe.Op != "handshake" {
			t.Fatalf("%s: %v (%T)", c.name, err, err)
		}
	}
}

func TestTLSHandshakeTimeout(t *testing.T) {
	ln := goListener(t) // accepts (the kernel does) and never answers
	start := time.Now()
	_, err := tlsAwait(t, Connect(context.Background(), ln.Addr().String(),
		WithTLS(&tls.Config{ServerName: "x"}), WithHandshakeTimeout(300*time.Millisecond)))
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, future.ErrTimeout) {
		t.Fatalf("%v, want ErrTimeout", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatal("too late")
	}
}

// A server's failed handshakes never reach its handler.
func TestTLSFailedHandshakeSkipsHandler(t *testing.T) {
	p := tlstest.Get(t)
	events := make(chan string, 10)
	srv := tlsListen(t, tlstest.ServerConfig(p.Localhost, 0, 0), Handler{
		OnConnect: func(*Socket) { events <- "connect" },
		OnClose:   func(*Socket, error) { events <- "close" },
	})
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("GET / HTTP/1.1\r\n\r\n"))
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	io.Copy(io.Discard, c) // the server closes
	c.Close()
	// A good client afterwards is served.
	tc, err := tls.Dial("tcp", srv.Addr().String(), p.ClientConfig("localhost", 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	tc.Close()
	if ev := <-events; ev != "connect" {
		t.Fatalf("first event %q: the failed handshake reached the handler", ev)
	}
}

// StartTLS: a plaintext exchange, then both sides upgrade (SMTP style),
// our client against a Go server and a Go client against our server.
func TestStartTLS(t *testing.T) {
	p := tlstest.Get(t)
	scfg := tlstest.ServerConfig(p.Localhost, 0, 0)

	// Our client, Go's server.
	ln := goListener(t)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		if line, _ := r.ReadString('\n'); line != "STARTTLS\n" {
			return
		}
		c.Write([]byte("220 go ahead\n"))
		tc := tls.Server(c, scfg)
		goEcho(tc)
	}()
	s, err := tlsAwait(t, Connect(context.Background(), ln.Addr().String()))
	if err != nil {
		t.Fatal(err)
	}
	s.WriteString("STARTTLS\n")
	if line, err := tlsAwait(t, s.ReadLine()); err != nil || string(line) != "220 go ahead" {
		t.Fatalf("%q %v", line, err)
	}
	if s.ConnectionState().HandshakeComplete {
		t.Fatal("TLS before StartTLS")
	}
	if _, err := tlsAwait(t, s.StartTLS(p.ClientConfig("localhost", 0, 0))); err != nil {
		t.Fatal(err)
	}
	s.WriteString("secret\n")
	if line, err := tlsAwait(t, s.ReadLine()); err != nil || string(line) != "secret" {
		t.Fatalf("%q %v", line, err)
	}
	if !s.ConnectionState().HandshakeComplete {
		t.Fatal("no TLS state")
	}
	s.Close()

	// Go's client, our server.
	srv, err := Listen("127.0.0.1:0", Handler{OnData: func(s *Socket, data []byte) {
		if s.ConnectionState().HandshakeComplete {
			s.Write(data)
			return
		}
		if string(data) == "STARTTLS\n" {
			s.WriteString("220 go ahead\n")
			s.StartTLS(scfg)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(context.Background())
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("STARTTLS\n"))
	r := bufio.NewReader(c)
	if line, _ := r.ReadString('\n'); line != "220 go ahead\n" {
		t.Fatalf("%q", line)
	}
	tc := tls.Client(c, p.ClientConfig("localhost", 0, 0))
	tc.Write([]byte("upgraded\n"))
	line, err := bufio.NewReader(tc).ReadString('\n')
	if err != nil || line != "upgraded\n" {
		t.Fatalf("%q %v", line, err)
	}
}

// CloseWrite on a TLS socket sends close_notify and half-closes: the peer
// reads EOF, and its reply still arrives.
func TestTLSCloseWrite(t *testing.T) {
	p := tlstest.Get(t)
	addr := goTLSServer(t, tlstest.ServerConfig(p.Localhost, tls.VersionTLS13, 0), func(c *tls.Conn) {
		b, err := io.ReadAll(c) // until close_notify
		if err != nil {
			return
		}
		c.Write([]byte("got " + string(b)))
		c.CloseWrite()
	})
	s, err := tlsAwait(t, Connect(context.Background(), addr, WithTLS(p.ClientConfig("", 0, 0)), WithHalfOpen(true)))
	if err != nil {
		t.Fatal(err)
	}
	s.WriteString("all of it")
	if _, err := tlsAwait(t, s.CloseWrite()); err != nil {
		t.Fatal(err)
	}
	got, err := tlsAwait(t, s.ReadN(len("got all of it")))
	if err != nil || string(got) != "got all of it" {
		t.Fatalf("%q %v", got, err)
	}
	s.Close()
}

// A paused TLS socket stops reading, so its peer meets TCP flow control
// (the socket does not buffer beyond its bound); after Resume everything
// arrives, in order.
func TestTLSPauseFlowControl(t *testing.T) {
	p := tlstest.Get(t)
	const total = 48 << 20
	got := make(chan int64, 1)
	var sum int64
	var n int64
	srv := tlsListen(t, tlstest.ServerConfig(p.Localhost, 0, 0), Handler{
		OnConnect: func(s *Socket) { s.Pause() },
		OnData: func(s *Socket, data []byte) {
			for _, b := range data {
				sum += int64(b)
			}
			if n += int64(len(data)); n == total {
				got <- sum
			}
		},
	}, WithMaxBuffered(1<<20))
	c, err := tls.Dial("tcp", srv.Addr().String(), p.ClientConfig("localhost", 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	chunk := make([]byte, 64<<10)
	var want int64
	for i := range chunk {
		chunk[i] = byte(i * 7)
		want += int64(chunk[i])
	}
	want *= total / int64(len(chunk))
	var sent atomic.Int64
	wrote := make(chan error, 1)
	go func() {
		for i := 0; i < total/len(chunk); i++ {
			k, err := c.Write(chunk)
			sent.Add(int64(k))
			if err != nil {
				wrote <- err
				return
			}
		}
		wrote <- nil
	}()
	// Wait until the writer stalls.
	last := int64(-1)
	for sent.Load() != last {
		last = sent.Load()
		time.Sleep(500 * time.Millisecond)
	}
	if last >= total {
		t.Fatalf("wrote all %d bytes to a paused socket", last)
	}
	t.Logf("paused: the writer stalled after %d of %d bytes", last, total)
	clients := srv.Clients()
	if len(clients) != 1 || !clients[0].Paused() || clients[0].Closed() {
		for _, c := range clients {
			t.Logf("client: paused %v closed %v err %v", c.Paused(), c.Closed(), c.Err())
		}
		t.Fatalf("the paused socket closed or resumed: %d clients", len(clients))
	}
	clients[0].Resume()
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-got:
		if s != want {
			t.Fatalf("checksum %d, want %d", s, want)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the data did not arrive after Resume")
	}
}

// A client may send application data as soon as it has sent its
// Finished, before the server's handshake has ended. The server stops
// reading beyond a bound meanwhile (TCP flow control), instead of
// buffering the flood in memory; every byte still arrives.
func TestTLSEarlyDataBounded(t *testing.T) {
	p := tlstest.Get(t)
	const total = 32 << 20
	scfg := tlstest.ServerConfig(p.Localhost, tls.VersionTLS13, 0)
	var slowed atomic.Bool
	scfg.VerifyConnection = func(tls.ConnectionState) error {
		if !slowed.Swap(true) {
			time.Sleep(1500 * time.Millisecond) // the handshake ends late
		}
		return nil
	}
	var n atomic.Int64
	srv := tlsListen(t, scfg, Handler{OnData: func(s *Socket, data []byte) { n.Add(int64(len(data))) }})
	c, err := tls.Dial("tcp", srv.Addr().String(), p.ClientConfig("localhost", 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The most the server's engine holds before its handshake ended.
	var peak atomic.Int64
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			for _, s := range srv.Clients() {
				// Buffered is read on the socket's loop, which owns the
				// engine's input once the handshake has ended.
				got := make(chan int64, 1)
				s.lp.Execute(func() {
					s.mu.Lock()
					tc := s.tls
					s.mu.Unlock()
					if tc != nil {
						got <- int64(tc.e.Buffered())
					} else {
						got <- 0
					}
				})
				select {
				case b := <-got:
					if b > peak.Load() {
						peak.Store(b)
					}
				case <-stop:
					return
				}
			}
		}
	}()
	chunk := make([]byte, 64<<10)
	for sent := 0; sent < total; sent += len(chunk) {
		if _, err := c.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	tlsWaitFor(t, func() bool { return n.Load() == total })
	close(stop)
	t.Logf("the server held at most %d bytes while %d were sent early", peak.Load(), total)
	if peak.Load() > 2<<20 { // maxEarly and what one read brought
		t.Fatalf("the server buffered %d bytes before its handshake ended", peak.Load())
	}
}
