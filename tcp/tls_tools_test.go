package tcp

import (
	"bytes"
	"context"
	"crypto/tls"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goasync/goasync/internal/tlstest"
)

// openssl s_client against a TLS server of the package: TLS 1.2 and 1.3,
// verification, ALPN, and session resumption (-sess_out, -sess_in).
func TestTLSOpenSSLClient(t *testing.T) {
	tlstest.NeedTool(t, "openssl")
	p := tlstest.Get(t)
	dir := t.TempDir()
	caFile, _, _ := p.Files(t, dir)
	scfg := tlstest.ServerConfig(p.Localhost, 0, 0)
	scfg.NextProtos = []string{"http/1.1"}
	srv := tlsListen(t, scfg, Handler{OnData: func(s *Socket, data []byte) {
		s.Write(bytes.ToUpper(data))
		s.Close()
	}})
	for _, v := range []string{"-tls1_2", "-tls1_3"} {
		sess := filepath.Join(dir, "sess"+v)
		for i, want := range []string{"New, TLSv1", "Reused, TLSv1"} {
			sessOut, sessIn := sess, ""
			if i > 0 {
				sessOut, sessIn = "", sess
			}
			out := tlstest.OpenSSLClient(t, srv.Addr().String(), caFile, v, sessOut, sessIn, "ping\n")
			for _, s := range []string{"PING", want, "Verify return code: 0 (ok)", "ALPN protocol: http/1.1"} {
				if !bytes.Contains(out, []byte(s)) {
					t.Fatalf("%s connection %d: no %q in:\n%s", v, i, s, out)
				}
			}
		}
	}
}

// Connect with TLS to openssl s_server -rev (it answers each line
// reversed), TLS 1.2 and 1.3.
func TestTLSOpenSSLServer(t *testing.T) {
	p := tlstest.Get(t)
	_, certFile, keyFile := p.Files(t, t.TempDir())
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		flag := map[uint16]string{tls.VersionTLS12: "-tls1_2", tls.VersionTLS13: "-tls1_3"}[v]
		addr := tlstest.OpenSSLReverseServer(t, certFile, keyFile, flag)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		s, err := tlsAwait(t, Connect(ctx, addr, WithTLS(p.ClientConfig("localhost", v, v))))
		if err != nil {
			t.Fatal(err)
		}
		if s.ConnectionState().Version != v {
			t.Fatalf("version %x", s.ConnectionState().Version)
		}
		s.WriteString("goasync\n")
		line, err := tlsAwait(t, s.ReadLine())
		if err != nil || strings.TrimSpace(string(line)) != "cnysaog" {
			t.Fatalf("%q %v", line, err)
		}
		s.Close()
		cancel()
	}
}
