package tlstest

import (
	"bufio"
	"context"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// NeedTool returns the path of the program name, or skips the test,
// saying so, when it is not installed (.ci/run installs openssl and curl).
func NeedTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed (.ci/run installs it): %v", name, err)
	}
	return path
}

// OpenSSLClient runs openssl s_client against addr as "localhost",
// verifying with caFile, with ALPN http/1.1 and the version flag given
// ("-tls1_2", "-tls1_3"), writes input and returns everything it printed.
// A non-empty sessOut saves the session there, a non-empty sessIn resumes
// it. A failure of the program fails the test.
func OpenSSLClient(t testing.TB, addr, caFile, version, sessOut, sessIn, input string) []byte {
	t.Helper()
	args := []string{"s_client", "-connect", addr, "-servername", "localhost", "-CAfile", caFile,
		"-verify_return_error", "-verify_hostname", "localhost", "-alpn", "http/1.1", version, "-ign_eof"}
	if sessOut != "" {
		args = append(args, "-sess_out", sessOut)
	}
	if sessIn != "" {
		args = append(args, "-sess_in", sessIn)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, NeedTool(t, "openssl"), args...)
	cmd.Stdin = strings.NewReader(input)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("openssl s_client %s: %v\n%s", version, err, out)
	}
	return out
}

// OpenSSLReverseServer starts openssl s_server -rev (it answers each line
// reversed) for one connection on a free loopback port with the version
// flag given, and returns its address. It is stopped at test cleanup.
func OpenSSLReverseServer(t testing.TB, certFile, keyFile, version string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	cmd := exec.CommandContext(ctx, NeedTool(t, "openssl"), "s_server", "-accept", "127.0.0.1:0",
		"-cert", certFile, "-key", keyFile, version, "-rev", "-naccept", "1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		cancel()
	})
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
	return addr
}
