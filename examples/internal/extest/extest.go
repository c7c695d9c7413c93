// Package extest holds what the examples' tests share: an output buffer
// that can be waited on, a way to run an example's run function as a
// server on a free port, and the goroutine-leak check.
package extest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/goasync/goasync"
)

// RunFunc is the shape of every example's entry point: main calls it with
// the process's arguments and streams, tests call it in-process.
type RunFunc func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error

// Wait is the generous bound on every "this should happen" wait.
const Wait = 20 * time.Second

// Output is a goroutine-safe buffer that tests can wait on.
type Output struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{}
}

// Write appends p and wakes waiters.
func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.b.Write(p)
	if o.changed != nil {
		close(o.changed)
		o.changed = nil
	}
	return len(p), nil
}

// String returns everything written so far.
func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// WaitFor waits until re matches the output and returns the submatches of
// the first match; it fails the test after Wait.
func (o *Output) WaitFor(t testing.TB, re string) []string {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.NewTimer(Wait)
	defer deadline.Stop()
	for {
		o.mu.Lock()
		if m := rx.FindStringSubmatch(o.b.String()); m != nil {
			o.mu.Unlock()
			return m
		}
		if o.changed == nil {
			o.changed = make(chan struct{})
		}
		ch := o.changed
		o.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("output never matched %q; output so far:\n%s", re, o.String())
			return nil
		}
	}
}

// Server is an example server running in-process.
type Server struct {
	Port string  // the port it listens on
	Out  *Output // its stdout
	Err  *Output // its stderr

	cancel context.CancelFunc
	done   chan error
}

// StartServer runs an example server with args plus "-port 0" and waits
// for its "Listening on ...:PORT" line. The server is stopped, and must
// return nil, when the test ends.
func StartServer(t testing.TB, run RunFunc, args ...string) *Server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{Out: new(Output), Err: new(Output), cancel: cancel, done: make(chan error, 1)}
	args = append([]string{"-port", "0"}, args...)
	go func() { s.done <- run(ctx, args, bytes.NewReader(nil), s.Out, s.Err) }()
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("server returned %v; stderr:\n%s", err, s.Err.String())
		}
	})
	rx := regexp.MustCompile(`Listening on \S*:(\d+)`)
	deadline := time.After(Wait)
	for {
		if m := rx.FindStringSubmatch(s.Out.String()); m != nil {
			s.Port = m[1]
			return s
		}
		select {
		case err := <-s.done:
			s.done <- err
			t.Fatalf("server exited before listening: %v; stderr:\n%s", err, s.Err.String())
		case <-deadline:
			t.Fatalf("server never said it listens; stdout:\n%s", s.Out.String())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// Stop cancels the server's context and returns what its run returned.
// It may be called more than once.
func (s *Server) Stop() error {
	s.cancel()
	select {
	case err := <-s.done:
		s.done <- err
		return err
	case <-time.After(Wait):
		return fmt.Errorf("server did not stop within %v", Wait)
	}
}

// Run runs an example to completion with stdin and returns its stdout,
// stderr and error, failing the test if it takes longer than Wait.
func Run(t testing.TB, run RunFunc, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Wait)
	defer cancel()
	var out, errOut Output
	err = run(ctx, args, bytes.NewReader([]byte(stdin)), &out, &errOut)
	if ctx.Err() != nil {
		t.Fatalf("%v did not finish within %v; stdout:\n%s\nstderr:\n%s", args, Wait, out.String(), errOut.String())
	}
	return out.String(), errOut.String(), err
}

// LeakOptions ignores the goroutines of gnet's process-wide worker pool.
var LeakOptions = []goleak.Option{
	goleak.IgnoreAnyFunction("github.com/panjf2000/ants/v2.(*poolCommon).purgeStaleWorkers"),
	goleak.IgnoreAnyFunction("github.com/panjf2000/ants/v2.(*poolCommon).ticktock"),
}

// Main runs the tests, stops the library's runtime, and fails the run if
// goroutines are left over.
func Main(m *testing.M) {
	code := m.Run()
	ctx, cancel := context.WithTimeout(context.Background(), Wait)
	_ = goasync.Shutdown(ctx)
	cancel()
	if code == 0 {
		if err := goleak.Find(LeakOptions...); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// Build compiles the example in examples/NAME into a temporary directory
// and returns the binary's path: process tests run programs exactly as
// `go run ./examples/NAME` would.
func Build(t testing.TB, name string) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command in PATH to build %s: %v", name, err)
	}
	bin := filepath.Join(t.TempDir(), name)
	cmd := exec.Command(goBin, "build", "-o", bin, "github.com/goasync/goasync/examples/"+name)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", name, err, out)
	}
	return bin
}

// StartProcess starts a built server binary with args plus "-port 0",
// waits for its "Listening on ...:PORT" line and returns the port. The
// process gets SIGINT when the test ends and must exit with status 0.
func StartProcess(t testing.TB, bin string, args ...string) (port string, stdout *Output) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-port", "0"}, args...)...)
	stdout, stderr := new(Output), new(Output)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("%s exited with %v; stderr:\n%s", bin, err, stderr.String())
			}
		case <-time.After(Wait):
			cmd.Process.Kill()
			<-exited
			t.Errorf("%s did not exit on SIGINT", bin)
		}
	})
	m := stdout.WaitFor(t, `Listening on \S*:(\d+)`)
	return m[1], stdout
}

// CheckHelp builds examples/NAME and checks its command line as a new user
// meets it: -h, -help and --help each exit with status 0 and print on
// standard output (and nothing on standard error) a usage that starts with
// "usage: NAME" and lists every flag of flags ("-listen", "-port"...); an
// unknown flag exits with status 2 and prints the error and the usage on
// standard error.
func CheckHelp(t testing.TB, name string, flags ...string) {
	t.Helper()
	bin := Build(t, name)
	for _, h := range []string{"-h", "-help", "--help"} {
		code, stdout, stderr := runBinary(t, bin, h)
		if code != 0 {
			t.Errorf("%s %s: exit status %d, want 0; stderr:\n%s", name, h, code, stderr)
		}
		if stderr != "" {
			t.Errorf("%s %s: wrote to stderr:\n%s", name, h, stderr)
		}
		if !strings.HasPrefix(stdout, "usage: "+name) {
			t.Errorf("%s %s: stdout does not start with %q:\n%s", name, h, "usage: "+name, stdout)
		}
		for _, f := range flags {
			if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(f) + `\s`).MatchString(stdout) {
				t.Errorf("%s %s: the usage does not list %s:\n%s", name, h, f, stdout)
			}
		}
	}
	code, stdout, stderr := runBinary(t, bin, "-no-such-flag")
	if code != 2 || stdout != "" ||
		!strings.Contains(stderr, "flag provided but not defined: -no-such-flag") || !strings.Contains(stderr, "usage: "+name) {
		t.Errorf("%s -no-such-flag: exit status %d, want 2 with the error and the usage on stderr; stdout:\n%s\nstderr:\n%s",
			name, code, stdout, stderr)
	}
}

// runBinary runs bin with args and no input, bounded by Wait, and returns
// its exit status and output.
func runBinary(t testing.TB, bin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Wait)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ctx.Err() == nil:
		code = ee.ExitCode()
	default:
		t.Fatalf("%s %v: %v", bin, args, err)
	}
	return code, out.String(), errOut.String()
}

// ListenArgs are the arguments that make an example server listen on
// 127.0.0.1 only, on a free port, with -listen.
var ListenArgs = []string{"-listen", "127.0.0.1:0"}

// CheckListen checks that srv, started with ListenArgs, says it listens on
// 127.0.0.1 (not on every interface) and returns the address to dial.
func CheckListen(t testing.TB, srv *Server) string {
	t.Helper()
	m := srv.Out.WaitFor(t, `Listening on (\S*):(\d+)`)
	if m[1] != "127.0.0.1" {
		t.Fatalf("-listen 127.0.0.1:0: the server listens on %s:%s; stdout:\n%s", m[1], m[2], srv.Out.String())
	}
	return "127.0.0.1:" + srv.Port
}
