// Package future provides typed futures and promises for goasync.
//
// A Promise is the producer side: it is settled once, with Resolve or
// Reject. Its Future is the consumer side: continuations are chained with
// Then, Catch, Finally, Handle, Compose, CatchAs and OrElse, joined with
// All, AllSettled, Any and Race (one type) or All2 and All3 (different
// types), and waited for with Await from goroutines that are not event
// loops.
//
// Methods cannot have type parameters in Go, so the steps that may change
// the type are functions (Then, Compose, Handle, CatchAs) and the methods
// keep it (Then, Catch, OrElse, Finally).
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
// # Tracing
//
// With the library logger at debug level, a pipeline started by Trace (or
// Named, or an operation of goasync given a context) is followed through
// every future derived from it: each step logs "future started" and
// "future settled" with the pipeline id (WithTraceID sets the
// application's own), its step id, its parent, its duration, outcome and
// error. With debug off nothing is traced and nothing is allocated.
// docs/tracing.md describes the entries and cmd/goasync-trace draws them.
//
// # Await
//
// Await blocks, so it must not run on an event-loop goroutine: there it
// returns ErrAwaitOnLoop at once.
package future
