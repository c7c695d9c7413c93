package tlsrec

import (
	"crypto/tls"
	"io"
	"testing"
)

// Session resumption with an engine client: the second connection to a Go
// server resumes the first one's session (the TLS 1.3 ticket arrives after
// the handshake and is read by Receive).
func TestResumeEngineClient(t *testing.T) {
	p := testPKI(t)
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			scfg := serverConfig(p.Localhost, v.v, v.v)
			ccfg := p.ClientConfig("localhost", v.v, v.v)
			ccfg.ClientSessionCache = tls.NewLRUClientSessionCache(4)
			for i, want := range []bool{false, true} {
				ours, peer := tcpPair(t)
				srv := tls.Server(peer, scfg)
				done := make(chan error, 1)
				go func() { done <- echoPeer(srv) }()
				lc := startLoopConn(t, ours, func(o Options) *Engine { return Client(ccfg, o) })
				if err := lc.handshake(); err != nil {
					t.Fatal(err)
				}
				roundTrips(t, lc) // reads the session ticket too
				if got := lc.e.State().DidResume; got != want {
					t.Fatalf("connection %d: DidResume %v", i, got)
				}
				lc.shutdown()
				<-done
			}
		})
	}
}

// Session resumption with an engine server: a Go client resumes against
// a second engine sharing the first one's tls.Config (and ticket keys).
func TestResumeEngineServer(t *testing.T) {
	p := testPKI(t)
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			scfg := serverConfig(p.Localhost, v.v, v.v)
			ccfg := p.ClientConfig("localhost", v.v, v.v)
			ccfg.ClientSessionCache = tls.NewLRUClientSessionCache(4)
			for i, want := range []bool{false, true} {
				ours, peer := tcpPair(t)
				lc := startLoopConn(t, ours, func(o Options) *Engine { return Server(scfg, o) })
				echoed := make(chan struct{})
				go func() { io.Copy(lc, lc); close(echoed) }()
				cli := tls.Client(peer, ccfg)
				roundTrips(t, cli)
				if got := cli.ConnectionState().DidResume; got != want {
					t.Fatalf("connection %d: client DidResume %v", i, got)
				}
				if got := lc.e.State().DidResume; got != want {
					t.Fatalf("connection %d: server DidResume %v", i, got)
				}
				cli.Close()
				<-echoed
				lc.shutdown()
			}
		})
	}
}

// SNI: one engine server configuration chooses between two certificates
// by the name the client asks for, with GetCertificate and with
// GetConfigForClient.
func TestSNI(t *testing.T) {
	p := testPKI(t)
	byName := map[string]*tls.Certificate{"a.test": &p.A, "b.test": &p.B}
	configs := map[string]*tls.Config{
		"GetCertificate": {GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
			return byName[h.ServerName], nil
		}},
		"GetConfigForClient": {GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
			return &tls.Config{Certificates: []tls.Certificate{*byName[h.ServerName]},
				NextProtos: []string{"proto-" + h.ServerName}}, nil
		}},
	}
	for how, scfg := range configs {
		for _, name := range []string{"a.test", "b.test"} {
			t.Run(how+"/"+name, func(t *testing.T) {
				ours, peer := tcpPair(t)
				lc := startLoopConn(t, ours, func(o Options) *Engine { return Server(scfg, o) })
				defer lc.shutdown()
				ccfg := p.ClientConfig(name, 0, 0)
				ccfg.NextProtos = []string{"proto-" + name}
				cli := tls.Client(peer, ccfg)
				defer cli.Close()
				if err := cli.Handshake(); err != nil {
					t.Fatal(err) // verification against the name is on
				}
				if got := cli.ConnectionState().PeerCertificates[0].DNSNames[0]; got != name {
					t.Fatalf("certificate for %s", got)
				}
				if err := lc.handshake(); err != nil {
					t.Fatal(err)
				}
				if got := lc.e.State().ServerName; got != name {
					t.Fatalf("server sees name %q", got)
				}
				if how == "GetConfigForClient" && lc.e.State().NegotiatedProtocol != "proto-"+name {
					t.Fatalf("ALPN %q", lc.e.State().NegotiatedProtocol)
				}
			})
		}
	}
}
