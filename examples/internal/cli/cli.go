// Package cli is the command-line plumbing every example shares: a flag set
// whose -h and --help print the usage on standard output and end the
// program with status 0, the -listen flag of the servers, and the exit
// status that main returns.
//
// An example's run function builds its flags with New, parses them with
// Parse and returns what went wrong; main hands that to Exit:
//
//	func main() {
//		cli.Exit("daytime-server", run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
//	}
//
//	func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
//		fs := cli.New("daytime-server", cli.Usage{...}, stdout, stderr)
//		port := fs.Int("port", 9999, "...")
//		listen := fs.Listen(port)
//		if err := fs.Parse(args); err != nil {
//			return err // flag.ErrHelp after -h, a *UsageError after a bad flag
//		}
//		srv, err := tcp.Listen(listen(), ...)
//
// The exit statuses are those of Go's flag.ExitOnError: 0 after -h, 2 for a
// bad command line, and 1 when the program itself fails.
package cli

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
)

// Usage is what -h prints above the flags.
type Usage struct {
	// Synopsis has one line per way to call the program, without "usage:",
	// e.g. "daytime-server [-listen ADDR | -port N]".
	Synopsis []string
	// Summary says in a sentence or two what the program does.
	Summary string
}

// FlagSet is a flag.FlagSet (ContinueOnError) whose Parse reports -h and
// bad flags in the way Exit expects.
type FlagSet struct {
	*flag.FlagSet
	name   string
	usage  Usage
	stdout io.Writer
	stderr io.Writer
}

// New returns the flag set of the program name. Its usage goes to stdout
// when the user asks for it (-h, -help, --help) and to stderr with the
// error otherwise.
func New(name string, u Usage, stdout, stderr io.Writer) *FlagSet {
	f := &FlagSet{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), name: name, usage: u, stdout: stdout, stderr: stderr}
	f.FlagSet.SetOutput(stderr)
	f.FlagSet.Usage = f.printUsage
	return f
}

// printUsage writes the synopsis, the summary and the flags to the flag
// set's output.
func (f *FlagSet) printUsage() {
	w := f.Output()
	for i, line := range f.usage.Synopsis {
		if i == 0 {
			fmt.Fprintf(w, "usage: %s\n", line)
		} else {
			fmt.Fprintf(w, "       %s\n", line)
		}
	}
	if len(f.usage.Synopsis) == 0 {
		fmt.Fprintf(w, "usage: %s [flags]\n", f.name)
	}
	if f.usage.Summary != "" {
		fmt.Fprintf(w, "\n%s\n", f.usage.Summary)
	}
	fmt.Fprintf(w, "\nflags:\n")
	f.PrintDefaults()
}

// Parse parses args. After -h, -help or --help it prints the usage on
// stdout and returns flag.ErrHelp; after a bad flag it prints the error and
// the usage on stderr and returns a *UsageError.
func (f *FlagSet) Parse(args []string) error {
	var buf bytes.Buffer
	f.FlagSet.SetOutput(&buf)
	err := f.FlagSet.Parse(args)
	f.FlagSet.SetOutput(f.stderr)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		_, _ = f.stdout.Write(buf.Bytes())
		return flag.ErrHelp
	default:
		_, _ = f.stderr.Write(buf.Bytes())
		return &UsageError{Err: err}
	}
}

// Fail reports a command line that parsed but makes no sense (a missing
// argument, flags that exclude each other): it prints "name: err" and the
// usage on stderr and returns err as a *UsageError.
func (f *FlagSet) Fail(err error) error {
	fmt.Fprintf(f.stderr, "%s: %v\n", f.name, err)
	f.Usage()
	return &UsageError{Err: err}
}

// Listen defines the -listen ADDR flag of a server beside its -port flag
// (port) and returns the address to listen on, valid once the flag set is
// parsed: the -listen address when one was given (it wins over -port),
// else ":PORT", every interface. -listen takes host:port with a numeric
// port, for example 127.0.0.1:8080, [::1]:0 or :9999; anything else is a
// bad flag.
func (f *FlagSet) Listen(port *int) func() string {
	var addr string
	f.Func("listen", "`address` to listen on, host:port, e.g. 127.0.0.1:8080 or [::1]:0 (wins over -port)", func(s string) error {
		if err := checkHostPort(s); err != nil {
			return err
		}
		addr = s
		return nil
	})
	return func() string {
		if addr != "" {
			return addr
		}
		return ":" + strconv.Itoa(*port)
	}
}

// checkHostPort accepts host:port with a port number in 0..65535.
func checkHostPort(s string) error {
	_, p, err := net.SplitHostPort(s)
	if err != nil {
		return err
	}
	if _, err := strconv.ParseUint(p, 10, 16); err != nil {
		return fmt.Errorf("port %q is not a number from 0 to 65535", p)
	}
	return nil
}

// UsageError is a command line the program cannot run with. It has been
// reported on stderr, with the usage, by the time Parse or Fail returns it.
type UsageError struct{ Err error }

// Error returns the message of the underlying error.
func (e *UsageError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *UsageError) Unwrap() error { return e.Err }

// Status is the exit status for what a run function returned: 0 for nil and
// flag.ErrHelp, 2 for a *UsageError, 1 for anything else.
func Status(err error) int {
	var ue *UsageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		return 2
	}
	return 1
}

// Exit ends the program name after its run function returned err. For nil
// and flag.ErrHelp it returns, so main's deferred calls run and the status
// is 0. A *UsageError (already reported) exits with status 2; any other
// error is printed on stderr as "name: err" and exits with status 1.
func Exit(name string, err error) {
	code := Status(err)
	if code == 0 {
		return
	}
	if code == 1 {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
	}
	os.Exit(code)
}
