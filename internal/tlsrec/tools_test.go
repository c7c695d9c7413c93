package tlsrec

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goasync/goasync/internal/tlstest"
)

// pkiFiles writes the CA and the localhost certificate for the tools.
func pkiFiles(t *testing.T) (dir, caFile, certFile, keyFile string) {
	dir = t.TempDir()
	caFile, certFile, keyFile = testPKI(t).Files(t, dir)
	return dir, caFile, certFile, keyFile
}

// engineServer accepts loopback connections and serves each with an
// engine server running handle. It stops at test cleanup.
func engineServer(t *testing.T, scfg *tls.Config, handle func(lc *loopConn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				lc := startLoopConn(t, c, func(o Options) *Engine { return Server(scfg, o) })
				defer lc.shutdown()
				if lc.handshake() == nil {
					handle(lc)
				}
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln.Addr().String()
}

// lineReply answers one line with reply, then closes with close_notify.
func lineReply(reply string) func(*loopConn) {
	return func(lc *loopConn) {
		if _, err := bufio.NewReader(lc).ReadString('\n'); err != nil {
			return
		}
		lc.Write([]byte(reply))
	}
}

// TestOpenSSLClient: openssl s_client against an engine server, TLS 1.2
// and 1.3, certificate verified, ALPN, then resumption with -sess_in.
func TestOpenSSLClient(t *testing.T) {
	tlstest.NeedTool(t, "openssl")
	dir, caFile, _, _ := pkiFiles(t)
	scfg := serverConfig(testPKI(t).Localhost, 0, 0)
	scfg.NextProtos = []string{"http/1.1"}
	addr := engineServer(t, scfg, lineReply("pong\n"))
	for _, v := range []string{"-tls1_2", "-tls1_3"} {
		t.Run(v, func(t *testing.T) {
			sess := filepath.Join(dir, "sess"+v)
			for i, want := range []string{"New, TLSv1", "Reused, TLSv1"} {
				sessOut, sessIn := sess, ""
				if i > 0 {
					sessOut, sessIn = "", sess
				}
				out := tlstest.OpenSSLClient(t, addr, caFile, v, sessOut, sessIn, "ping\n")
				for _, s := range []string{"pong", want, "Verify return code: 0 (ok)", "ALPN protocol: http/1.1"} {
					if !bytes.Contains(out, []byte(s)) {
						t.Fatalf("connection %d: no %q in:\n%s", i, s, out)
					}
				}
			}
		})
	}
}

// TestOpenSSLServer: an engine client against openssl s_server -rev (it
// answers each line reversed), TLS 1.2 and 1.3.
func TestOpenSSLServer(t *testing.T) {
	_, _, certFile, keyFile := pkiFiles(t)
	p := testPKI(t)
	for _, v := range versions {
		flag := map[uint16]string{tls.VersionTLS12: "-tls1_2", tls.VersionTLS13: "-tls1_3"}[v.v]
		t.Run(v.name, func(t *testing.T) {
			addr := tlstest.OpenSSLReverseServer(t, certFile, keyFile, flag)
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			lc := startLoopConn(t, c, func(o Options) *Engine { return Client(p.ClientConfig("localhost", v.v, v.v), o) })
			defer lc.shutdown()
			if err := lc.handshake(); err != nil {
				t.Fatal(err)
			}
			if lc.e.State().Version != v.v {
				t.Fatalf("version %x", lc.e.State().Version)
			}
			r := bufio.NewReader(lc)
			for i := range 3 {
				msg := fmt.Sprintf("goasync-%d", i)
				lc.Write([]byte(msg + "\n"))
				line, err := r.ReadString('\n')
				if err != nil {
					t.Fatal(err)
				}
				if want := reverse(msg); strings.TrimSpace(line) != want {
					t.Fatalf("got %q, want %q", line, want)
				}
			}
		})
	}
}

func reverse(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

// TestCurl: curl --cacert fetches from an engine server that answers one
// HTTP/1.1 request (ALPN http/1.1).
func TestCurl(t *testing.T) {
	curl := tlstest.NeedTool(t, "curl")
	_, caFile, _, _ := pkiFiles(t)
	scfg := serverConfig(testPKI(t).Localhost, 0, 0)
	scfg.NextProtos = []string{"http/1.1"}
	body := "hello from the loop\n"
	addr := engineServer(t, scfg, func(lc *loopConn) {
		r := bufio.NewReader(lc)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if line == "\r\n" {
				break
			}
		}
		fmt.Fprintf(lc, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
	})
	_, port, _ := net.SplitHostPort(addr)
	for _, v := range []string{"--tlsv1.2", "--tlsv1.3"} {
		t.Run(v, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			args := []string{"-sS", "-v", "--http1.1", v, "--cacert", caFile,
				"--resolve", "localhost:" + port + ":127.0.0.1", "https://localhost:" + port + "/"}
			if v == "--tlsv1.2" {
				args = append(args, "--tls-max", "1.2")
			}
			out, err := exec.CommandContext(ctx, curl, args...).CombinedOutput()
			if err != nil {
				t.Fatalf("curl: %v\n%s", err, out)
			}
			want := map[string]string{"--tlsv1.2": "TLSv1.2", "--tlsv1.3": "TLSv1.3"}[v]
			for _, s := range []string{body, "ALPN: server accepted http/1.1", "SSL connection using " + want} {
				if !bytes.Contains(out, []byte(s)) {
					t.Fatalf("no %q in:\n%s", s, out)
				}
			}
		})
	}
}
