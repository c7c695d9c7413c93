package tlsrec

import (
	"context"
	"errors"
	"net"

	"github.com/goasync/goasync/future"
)

// ErrHandshakeTimeout rejects a handshake that did not finish within its
// timeout. It matches future.ErrTimeout and context.DeadlineExceeded with
// errors.Is, and its Timeout method reports true.
var ErrHandshakeTimeout error = timeoutError{}

type timeoutError struct{}

func (timeoutError) Error() string   { return "tls: handshake timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }
func (timeoutError) Is(target error) bool {
	return target == future.ErrTimeout || target == context.DeadlineExceeded
}

// ErrClosed is returned by operations on an engine after Close or a
// failure. It matches net.ErrClosed.
var ErrClosed error = closedError{}

type closedError struct{}

func (closedError) Error() string        { return "tls: use of closed connection" }
func (closedError) Is(target error) bool { return target == net.ErrClosed }

// ErrHandshakeNotDone is returned by Encrypt and CloseWrite before the
// handshake has finished.
var ErrHandshakeNotDone = errors.New("tls: handshake not complete")
