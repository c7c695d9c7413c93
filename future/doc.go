// Package future provides typed futures and promises for goasync.
//
// A Promise is the producer side: it is settled once, with Resolve or
// Reject. Its Future is the consumer side: continuations are chained with
// Then, Catch, Finally, Handle, Compose and CatchAs, joined with All,
// AllSettled, Any and Race, and waited for with Await from goroutines that
// are not event loops.
//
// # Where continuations run
//
// A continuation runs on the goroutine that settles the promise, inside the
// Resolve or Reject call. Attached to a future that is already settled, it
// runs at once, inside the attaching call. The continuations of one future
// run in the order they were attached. Via hands the continuations of a
// future to an Executor instead, for example an event loop.
//
// Nothing in this package starts a goroutine except Go, which runs blocking
// work on a bounded pool, and WithContext, which relies on
// context.AfterFunc.
//
// # Errors
//
// A callback that returns an error rejects the next future; a callback that
// panics rejects it with a *PanicError. Rejections skip Then and reach the
// next Catch, Handle or CatchAs. Cancel rejects a future with an error that
// matches ErrCanceled and tells the producer through OnCancel. A rejection
// that nobody observes is reported to the handler set with
// SetUnhandledHandler.
//
// # Await
//
// Await blocks, so it must not run on an event-loop goroutine: there it
// returns ErrAwaitOnLoop at once.
package future
