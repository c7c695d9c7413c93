package http

import (
	"crypto/tls"
	"net/url"
	"slices"

	"github.com/goasync/goasync/tcp"
)

// WithTLS makes the server serve HTTPS with cfg (Go's crypto/tls: a
// certificate through Certificates, GetCertificate or GetConfigForClient,
// so SNI works). ALPN offers "http/1.1" unless cfg.NextProtos says
// otherwise (HTTP/2 is not served, so do not list "h2"). Requests carry
// the connection state in Request.TLS. Handshakes run off the loop (a
// goroutine each, docs/tls.md), bounded by tcp.DefaultHandshakeTimeout unless
// WithTCPOptions(tcp.WithHandshakeTimeout(d)) says otherwise; a client that
// fails its handshake never reaches the handler. Graceful Close works as
// without TLS (close_notify is sent before each connection closes).
func WithTLS(cfg *tls.Config) ServerOption {
	return func(c *serverConfig) { c.tls = cfg }
}

// serverTLS is the server's config with ALPN http/1.1 by default.
func serverTLS(cfg *tls.Config) *tls.Config {
	if len(cfg.NextProtos) > 0 {
		return cfg
	}
	cfg = cfg.Clone()
	cfg.NextProtos = []string{"http/1.1"}
	return cfg
}

// connTLS returns the connection state of a TLS socket, else nil.
func connTLS(s *tcp.Socket) *tls.ConnectionState {
	st := s.ConnectionState()
	if !st.HandshakeComplete {
		return nil
	}
	return &st
}

// tlsConfig is the client's TLS configuration for https, with ALPN
// http/1.1 (the only protocol the client speaks).
func (c *Client) tlsConfig() *tls.Config {
	cfg := c.TLSClientConfig
	if cfg == nil {
		cfg = &tls.Config{}
	}
	if slices.Equal(cfg.NextProtos, []string{"http/1.1"}) {
		return cfg
	}
	cfg = cfg.Clone()
	cfg.NextProtos = []string{"http/1.1"}
	return cfg
}

// tlsState is the connection state for Response.TLS (nil for http): one
// value per connection, shared by its responses, as net/http's Transport
// does.
func (cc *clientConn) tlsState() *tls.ConnectionState {
	if cc.tls == nil && cc.sock != nil && cc.pool.tls {
		cc.tls = connTLS(cc.sock)
	}
	return cc.tls
}

// downgrade reports a redirect from https to a URL that is not https:
// credentials are not sent over it.
func downgrade(from, to *url.URL) bool {
	return from.Scheme == "https" && to.Scheme != "https"
}
