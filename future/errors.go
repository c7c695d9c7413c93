package future

import (
	"context"
	"errors"
	"fmt"
)

// Errors of the package, for use with errors.Is.
var (
	// ErrCanceled matches the error of a future settled by Cancel.
	ErrCanceled error = errors.New("future: canceled")
	// ErrTimeout matches timeouts (timer.Timeout rejects with it). It also
	// matches context.DeadlineExceeded, so code written against contexts
	// recognises it.
	ErrTimeout error = timeoutError{}
	// ErrAwaitOnLoop is returned by Await called on an event-loop
	// goroutine, where blocking would stall every socket of the loop.
	ErrAwaitOnLoop error = errors.New("future: Await called on an event-loop goroutine; chain with Then instead")
	// ErrPanic matches every *PanicError.
	ErrPanic error = errors.New("future: panic in callback")
	// ErrPoolFull rejects a Go call when the blocking-work pool has all its
	// workers busy and its queue full.
	ErrPoolFull error = errors.New("future: blocking-work pool is full")
)

// errNilReject is used when Reject is called with a nil error.
var errNilReject = errors.New("future: Reject called with a nil error")

// errNilFuture rejects combinators given a nil future.
var errNilFuture = errors.New("future: nil future")

type timeoutError struct{}

func (timeoutError) Error() string   { return "future: timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func (timeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// canceledError is the rejection of a canceled future.
type canceledError struct{ cause error }

func (e *canceledError) Error() string {
	if e.cause == nil || e.cause == ErrCanceled {
		return ErrCanceled.Error()
	}
	return ErrCanceled.Error() + ": " + e.cause.Error()
}

func (e *canceledError) Is(target error) bool { return target == ErrCanceled }
func (e *canceledError) Unwrap() error        { return e.cause }

// PanicError is the rejection of a future whose callback panicked.
// errors.Is(err, ErrPanic) is true for it; Unwrap returns the panic value
// when that value is an error.
type PanicError struct {
	// Value is the value passed to panic.
	Value any
	// Stack is the stack of the goroutine where the panic was recovered.
	Stack []byte
}

// Error describes the panic value; the stack is in Stack.
func (e *PanicError) Error() string { return fmt.Sprintf("future: panic: %v", e.Value) }

// Is reports whether target is ErrPanic.
func (e *PanicError) Is(target error) bool { return target == ErrPanic }

// Unwrap returns the panic value when it is an error, else nil.
func (e *PanicError) Unwrap() error {
	if err, ok := e.Value.(error); ok {
		return err
	}
	return nil
}
