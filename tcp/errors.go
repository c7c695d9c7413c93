package tcp

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"syscall"

	"github.com/goasync/goasync/future"
)

// Sentinel errors of the package, for errors.Is. Failures come wrapped in an
// *OpError that also unwraps to the operating-system error, so
// errors.Is(err, syscall.ECONNREFUSED) works as well as
// errors.Is(err, ErrRefused). A clean close by the peer is io.EOF.
var (
	// ErrRefused: the peer refused the connection (ECONNREFUSED, or no
	// listener on a unix socket path).
	ErrRefused = errors.New("tcp: connection refused")
	// ErrReset: the peer reset the connection (ECONNRESET, EPIPE).
	ErrReset = errors.New("tcp: connection reset by peer")
	// ErrTimeout: a connect, read, write or idle timeout expired. It also
	// matches future.ErrTimeout and context.DeadlineExceeded.
	ErrTimeout error = timeoutError{}
	// ErrClosed: the socket, server or runtime is closed (also after
	// Abort, CloseWrite for writes, or a forced server close). It matches
	// net.ErrClosed.
	ErrClosed error = closedError{}
	// ErrBufferFull: a paused socket buffered more than its bound (see
	// WithMaxBuffered), or a write would exceed the output cap (see
	// WithMaxQueued).
	ErrBufferFull = errors.New("tcp: buffer full")
	// ErrDNS: a host name could not be resolved.
	ErrDNS = errors.New("tcp: name resolution failed")
	// ErrAccept: the server's accept loop failed and the server stopped.
	ErrAccept = errors.New("tcp: accept failed")
)

type timeoutError struct{}

func (timeoutError) Error() string   { return "tcp: timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }
func (timeoutError) Is(target error) bool {
	return target == future.ErrTimeout || target == context.DeadlineExceeded
}

type closedError struct{}

func (closedError) Error() string        { return "tcp: use of closed socket" }
func (closedError) Is(target error) bool { return target == net.ErrClosed }

// OpError describes a failed operation on a socket or server.
type OpError struct {
	// Op is the operation: "resolve", "dial", "read", "write", "close",
	// "accept", "listen".
	Op string
	// Addr is the remote (or listen) address as the user gave it, or the
	// peer's address.
	Addr string
	// Err is the cause: an operating-system error (*os.SyscallError,
	// syscall.Errno), one of the package's sentinels, or a context error.
	Err error
}

// Error reads like "tcp dial 127.0.0.1:1: connection refused".
func (e *OpError) Error() string {
	s := "tcp " + e.Op
	if e.Addr != "" {
		s += " " + e.Addr
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *OpError) Unwrap() error { return e.Err }

// Is matches the package's sentinels by the kind of the cause.
func (e *OpError) Is(target error) bool {
	k := kindOf(e.Err)
	if k == nil || k == e.Err {
		return false // errors.Is reaches e.Err through Unwrap
	}
	return target == k || errors.Is(k, target)
}

// Timeout reports whether the operation timed out (net.Error).
func (e *OpError) Timeout() bool { return errors.Is(e, ErrTimeout) }

// Temporary is false: none of these failures go away on retrying the same
// socket (net.Error).
func (e *OpError) Temporary() bool { return false }

// kindOf maps a cause to the package's sentinel for it, or nil.
func kindOf(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrTimeout), errors.Is(err, ErrReset), errors.Is(err, ErrRefused),
		errors.Is(err, ErrBufferFull), errors.Is(err, ErrDNS), errors.Is(err, ErrAccept),
		errors.Is(err, io.EOF):
		return nil // already a sentinel in the chain
	case errors.Is(err, syscall.ECONNREFUSED):
		return ErrRefused
	case errors.Is(err, syscall.ENOENT) || errors.Is(err, os.ErrNotExist):
		return ErrRefused // unix socket path without a listener
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED):
		return ErrReset
	case errors.Is(err, syscall.ETIMEDOUT), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, future.ErrTimeout):
		return ErrTimeout
	case errors.Is(err, net.ErrClosed):
		return ErrClosed
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return ErrDNS
	}
	return nil
}

func opError(op, addr string, err error) error {
	if err == nil {
		return nil
	}
	var oe *OpError
	if errors.As(err, &oe) && oe.Op == op {
		return err
	}
	return &OpError{Op: op, Addr: addr, Err: err}
}
