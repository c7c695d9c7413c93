package future

import (
	"github.com/sourcegraph/conc/panics"
)

// Protect runs fn and returns the *PanicError of a panic in it, or nil.
// It is goasync's one way to recover a user callback: the value and the
// stack are captured by conc's panics.NewRecovered. Code that runs user
// callbacks outside a future chain (socket handlers, HTTP handlers, timer
// callbacks) calls Protect and rejects, logs or reports the error.
func Protect(fn func()) *PanicError {
	var perr *PanicError
	func() {
		defer func() {
			if v := recover(); v != nil {
				perr = panicError(v)
			}
		}()
		fn()
	}()
	return perr
}

// protect runs fn and turns a panic into a *PanicError. The recovery is
// written out here rather than through panics.Catcher because a Catcher
// escapes to the heap, which would cost an allocation per callback; the
// value and stack are still captured by conc's panics.NewRecovered.
func protect(fn func()) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = panicError(v)
		}
	}()
	fn()
	return nil
}

// call runs fn(v) and turns a panic into a *PanicError rejection. It is
// protect specialised for the hottest callback shape, without a closure.
func call[T, U any](fn func(T) (U, error), v T) (u U, err error) {
	defer func() {
		if r := recover(); r != nil {
			var zero U
			u, err = zero, panicError(r)
		}
	}()
	return fn(v)
}

func panicError(v any) *PanicError {
	r := panics.NewRecovered(2, v)
	return &PanicError{Value: r.Value, Stack: r.Stack}
}

// runHook runs a cancel hook; a panic is reported as unhandled since
// there is no future to reject.
func runHook(fn func(error), cause error) {
	if perr := protect(func() { fn(cause) }); perr != nil {
		reportUnhandled(perr)
	}
}
