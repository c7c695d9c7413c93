package tcp

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goasync/goasync/internal/tlstest"
)

func needTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed (.ci/run installs it): %v", name, err)
	}
	return path
}

// openssl s_client against a TLS server of the package: TLS 1.2 and 1.3,
// verification, ALPN, and session resumption (-sess_out, -sess_in).
func TestTLSOpenSSLClient(t *testing.T) {
	openssl := needTool(t, "openssl")
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
			args := []string{"s_client", "-connect", srv.Addr().String(), "-servername", "localhost",
				"-CAfile", caFile, "-verify_return_error", "-verify_hostname", "localhost",
				"-alpn", "http/1.1", v, "-ign_eof"}
			if i == 0 {
				args = append(args, "-sess_out", sess)
			} else {
				args = append(args, "-sess_in", sess)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			cmd := exec.CommandContext(ctx, openssl, args...)
			cmd.Stdin = strings.NewReader("ping\n")
			out, err := cmd.CombinedOutput()
			cancel()
			if err != nil {
				t.Fatalf("openssl %s: %v\n%s", v, err, out)
			}
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
	openssl := needTool(t, "openssl")
	p := tlstest.Get(t)
	_, certFile, keyFile := p.Files(t, t.TempDir())
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		flag := map[uint16]string{tls.VersionTLS12: "-tls1_2", tls.VersionTLS13: "-tls1_3"}[v]
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := exec.CommandContext(ctx, openssl, "s_server", "-accept", "127.0.0.1:0", "-cert", certFile,
			"-key", keyFile, flag, "-rev", "-naccept", "1")
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		addr := ""
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "ACCEPT "); ok {
				addr = a
				break
			}
		}
		go io.Copy(io.Discard, stdout)
		if addr == "" {
			t.Fatal("openssl s_server did not say where it listens")
		}
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
		cmd.Process.Kill()
		cmd.Wait()
		cancel()
	}
}
