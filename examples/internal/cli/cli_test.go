package cli

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"strings"
	"testing"
)

func newTest() (*FlagSet, *bytes.Buffer, *bytes.Buffer, *int, func() string) {
	var out, errOut bytes.Buffer
	f := New("srv", Usage{Synopsis: []string{"srv [-listen ADDR | -port N]", "srv -other"}, Summary: "Serves."}, &out, &errOut)
	port := f.Int("port", 9999, "port to listen on")
	return f, &out, &errOut, port, f.Listen(port)
}

func TestHelpGoesToStdout(t *testing.T) {
	for _, h := range []string{"-h", "-help", "--help"} {
		f, out, errOut, _, _ := newTest()
		err := f.Parse([]string{h})
		if !errors.Is(err, flag.ErrHelp) || Status(err) != 0 {
			t.Fatalf("%s: err %v, status %d", h, err, Status(err))
		}
		want := "usage: srv [-listen ADDR | -port N]\n       srv -other\n\nServes.\n\nflags:\n  -listen address\n"
		if !strings.HasPrefix(out.String(), want) || !strings.Contains(out.String(), "\n  -port int\n") {
			t.Fatalf("%s: stdout:\n%s", h, out)
		}
		if errOut.Len() != 0 {
			t.Fatalf("%s: stderr:\n%s", h, errOut)
		}
	}
}

func TestBadFlagGoesToStderr(t *testing.T) {
	f, out, errOut, _, _ := newTest()
	err := f.Parse([]string{"-port", "x"})
	var ue *UsageError
	if !errors.As(err, &ue) || Status(err) != 2 {
		t.Fatalf("err %v (%T), status %d", err, err, Status(err))
	}
	if out.Len() != 0 || !strings.HasPrefix(errOut.String(), `invalid value "x" for flag -port`) ||
		!strings.Contains(errOut.String(), "usage: srv") {
		t.Fatalf("stdout:\n%s\nstderr:\n%s", out, errOut)
	}
	// The output goes back to stderr after Parse.
	if f.Output() != errOut {
		t.Fatal("output not restored")
	}
}

func TestListen(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, ":9999"},
		{[]string{"-port", "0"}, ":0"},
		{[]string{"-listen", "127.0.0.1:0"}, "127.0.0.1:0"},
		{[]string{"-port", "0", "-listen", "[::1]:8080"}, "[::1]:8080"},
		{[]string{"-listen", ":7"}, ":7"},
		{[]string{"-listen", "localhost:65535"}, "localhost:65535"},
	} {
		f, _, errOut, _, listen := newTest()
		if err := f.Parse(tc.args); err != nil {
			t.Fatalf("%v: %v\n%s", tc.args, err, errOut)
		}
		if got := listen(); got != tc.want {
			t.Errorf("%v: listen() = %q, want %q", tc.args, got, tc.want)
		}
	}
	for _, bad := range []string{"9999", "", "127.0.0.1:", "127.0.0.1:x", "127.0.0.1:65536", "[::1", "a:b:c"} {
		f, _, errOut, _, _ := newTest()
		err := f.Parse([]string{"-listen", bad})
		if Status(err) != 2 || !strings.Contains(errOut.String(), "for flag -listen") {
			t.Errorf("-listen %q: err %v; stderr:\n%s", bad, err, errOut)
		}
	}
}

func TestFail(t *testing.T) {
	f, out, errOut, _, _ := newTest()
	if err := f.Parse(nil); err != nil {
		t.Fatal(err)
	}
	err := f.Fail(errors.New("-to is required"))
	if Status(err) != 2 || err.Error() != "-to is required" {
		t.Fatalf("err %v, status %d", err, Status(err))
	}
	if out.Len() != 0 || !strings.HasPrefix(errOut.String(), "srv: -to is required\nusage: srv") {
		t.Fatalf("stdout:\n%s\nstderr:\n%s", out, errOut)
	}
}

func TestStatus(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{nil, 0},
		{flag.ErrHelp, 0},
		{fmt.Errorf("wrapped: %w", flag.ErrHelp), 0},
		{&UsageError{Err: errors.New("bad")}, 2},
		{fmt.Errorf("wrapped: %w", &UsageError{Err: errors.New("bad")}), 2},
		{errors.New("connection refused"), 1},
	} {
		if got := Status(tc.err); got != tc.want {
			t.Errorf("Status(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}
