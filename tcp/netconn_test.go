package tcp

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"
)

// Go's net/http client runs over the net.Conn view, against Go's server.
func TestNetConnCarriesNetHTTPClient(t *testing.T) {
	r := newRuntime(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		io.WriteString(w, "hello "+req.URL.Path)
	}))
	defer srv.Close()
	tr := &http.Transport{DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
		s, err := Connect(ctx, addr, withRuntime(r)).Await(ctx)
		if err != nil {
			return nil, err
		}
		return s.NetConn(), nil
	}}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 20 * time.Second}
	for _, path := range []string{"/a", "/b", "/c"} { // keep-alive: one conn, three requests
		resp, err := c.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(b) != "hello "+path {
			t.Fatalf("%s: %q %v", path, b, err)
		}
	}
}

// crypto/tls runs over the net.Conn view: an HTTPS GET to Go's TLS server.
func TestNetConnCarriesCryptoTLS(t *testing.T) {
	r := newRuntime(t)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "secret")
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := Connect(ctx, srv.Listener.Addr().String(), withRuntime(r)).Await(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cfg := srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	cfg.ServerName = "example.com"
	tc := tls.Client(s.NetConn(), cfg)
	defer tc.Close()
	if err := tc.HandshakeContext(ctx); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", "https://example.com/", nil)
	if err := req.Write(tc); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(tc), req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "secret" {
		t.Fatalf("body %q", b)
	}
}

// bufio, encoding/json and io.Copy on the view; 8 MiB hash-checked through
// Go's echo peer; CloseWrite ends the upload.
func TestNetConnWithStdlibReadersAndWriters(t *testing.T) {
	s, peer := connectedPair(t)
	go func() {
		io.Copy(peer, peer) // echo until our CloseWrite
		peer.(*net.TCPConn).CloseWrite()
	}()
	c := s.NetConn()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	enc, dec := json.NewEncoder(c), json.NewDecoder(bufio.NewReader(c))
	type msg struct{ N int }
	for i := range 3 {
		if err := enc.Encode(msg{i}); err != nil {
			t.Fatal(err)
		}
		var m msg
		if err := dec.Decode(&m); err != nil || m.N != i {
			t.Fatalf("decode %d: %+v %v", i, m, err)
		}
	}
	if rest, _ := io.ReadAll(dec.Buffered()); string(rest) != "\n" { // the last message's newline
		t.Fatalf("decoder holds %q", rest)
	}
	out, sum := randomStream(t, 8<<20)
	done := make(chan error, 1)
	go func() {
		_, err := c.Write(out)
		if err == nil {
			err = c.(interface{ CloseWrite() error }).CloseWrite()
		}
		done <- err
	}()
	h := sha256.New()
	n, err := io.Copy(h, c)
	if err != nil || n != int64(len(out)) {
		t.Fatalf("copied %d of %d: %v", n, len(out), err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if [32]byte(h.Sum(nil)) != sum {
		t.Fatal("echoed bytes differ")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

// A Read that hits its deadline is a net.Error timeout and leaves the
// stream untouched; moving the deadline wakes a blocked Read.
func TestNetConnReadDeadline(t *testing.T) {
	s, peer := connectedPair(t)
	c := s.NetConn()
	c.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	buf := make([]byte, 64)
	_, err := c.Read(buf)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline: %v", err)
	}
	peer.Write([]byte("after"))
	c.SetReadDeadline(time.Time{})
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "after" {
		t.Fatalf("read after a timed-out read: %q %v", buf[:n], err)
	}
	// A blocked Read sees a deadline set from another goroutine.
	go func() {
		time.Sleep(30 * time.Millisecond)
		c.SetReadDeadline(time.Now())
	}()
	if _, err := c.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read woken by a new deadline: %v", err)
	}
	peer.Close()
	c.SetReadDeadline(time.Time{})
	if _, err := c.Read(buf); err != io.EOF {
		t.Fatalf("read at the peer's close: %v, want io.EOF", err)
	}
}
