package future

import (
	"errors"

	"github.com/goasync/goasync/internal/logx"
)

// Every node below keeps the downstream Promise as its first field, so
// chaining a step costs one allocation: the node is both the continuation
// of the upstream future and the storage of the downstream one.

// pendingOn prepares the downstream future of a node derived from up.
// Derived futures are not counted in stats.PendingFutures: they settle
// through their sources, so the gauge counts the roots (promises) only,
// at half the cost on the chaining path.
func pendingOn[U any](fut *Future[U], up canceler) {
	fut.src = up
}

// Then returns a future settled by fn(v) when f resolves with v; when f
// rejects, fn is skipped and the rejection passes on. fn may change the
// type; use Compose when fn itself returns a future.
func Then[T, U any](f *Future[T], fn func(T) (U, error)) *Future[U] {
	n := &thenNode[T, U]{fn: fn}
	pendingOn(&n.p.fut, f)
	if up := f.rec(); up != nil {
		derive(&n.p.fut, up, "then", fn)
	} else if logx.Debug() {
		n.p.fut.noteSite()
	}
	f.addCont(n)
	return &n.p.fut
}

type thenNode[T, U any] struct {
	p  Promise[U]
	fn func(T) (U, error)
}

func (n *thenNode[T, U]) complete(v T, err error) {
	n.p.fut.begin()
	out := &n.p.fut
	if err != nil {
		var zero U
		out.settle(zero, err, false, nil)
		return
	}
	if out.state() != pending {
		return // cancelled downstream: skip the work
	}
	u, err := call(n.fn, v)
	out.settle(u, err, false, nil)
}

// Then returns a future settled by fn(v) when f resolves with v; when f
// rejects, fn is skipped and the rejection passes on. It is the
// same-type form of the package function Then, which can change the type.
func (f *Future[T]) Then(fn func(T) (T, error)) *Future[T] { return Then(f, fn) }

// Catch returns a future that passes a resolution of f through and
// settles with fn(err) when f rejects; fn can recover (return a value and
// nil) or reject again.
func (f *Future[T]) Catch(fn func(error) (T, error)) *Future[T] {
	n := &catchNode[T]{fn: fn}
	pendingOn(&n.p.fut, f)
	if up := f.rec(); up != nil {
		derive(&n.p.fut, up, "catch", fn)
	} else if logx.Debug() {
		n.p.fut.noteSite()
	}
	f.addCont(n)
	return &n.p.fut
}

type catchNode[T any] struct {
	p  Promise[T]
	fn func(error) (T, error)
}

func (n *catchNode[T]) complete(v T, err error) {
	n.p.fut.begin()
	out := &n.p.fut
	if err == nil || out.state() != pending {
		out.settle(v, err, false, nil)
		return
	}
	v, err = call(n.fn, err)
	out.settle(v, err, false, nil)
}

// CatchAs is Catch for one kind of error: fn runs when the rejection
// matches E under errors.As, and any other rejection passes on untouched.
func CatchAs[T any, E error](f *Future[T], fn func(E) (T, error)) *Future[T] {
	n := &catchAsNode[T, E]{fn: fn}
	pendingOn(&n.p.fut, f)
	if up := f.rec(); up != nil {
		derive(&n.p.fut, up, "catch", fn)
	} else if logx.Debug() {
		n.p.fut.noteSite()
	}
	f.addCont(n)
	return &n.p.fut
}

type catchAsNode[T any, E error] struct {
	p  Promise[T]
	fn func(E) (T, error)
}

func (n *catchAsNode[T, E]) complete(v T, err error) {
	n.p.fut.begin()
	out := &n.p.fut
	var target E
	if err == nil || out.state() != pending || !errors.As(err, &target) {
		out.settle(v, err, false, nil)
		return
	}
	v, err = call(n.fn, target)
	out.settle(v, err, false, nil)
}

// OrElse returns a future that settles like f when f resolves, and when f
// rejects with err follows the future fn(err) returns: recovery that is
// itself asynchronous (try another host, read a cache) in one step,
// without Handle and Compose. A nil future from fn rejects with an error.
// Cancelling the returned future cancels f, or the future from fn once fn
// has run.
func (f *Future[T]) OrElse(fn func(err error) *Future[T]) *Future[T] {
	n := &orElseNode[T]{fn: fn}
	pendingOn(&n.p.fut, f)
	if up := f.rec(); up != nil {
		derive(&n.p.fut, up, "orelse", fn)
	} else if logx.Debug() {
		n.p.fut.noteSite()
	}
	f.addCont(n)
	return &n.p.fut
}

type orElseNode[T any] struct {
	p  Promise[T]
	fn func(error) *Future[T]
}

func (n *orElseNode[T]) complete(v T, err error) {
	n.p.fut.begin()
	out := &n.p.fut
	if err == nil || out.state() != pending {
		out.settle(v, err, false, nil)
		return
	}
	var inner *Future[T]
	if perr := protect(func() { inner = n.fn(err) }); perr != nil {
		var zero T
		out.settle(zero, perr, false, nil)
		return
	}
	out.follow(inner)
}

// follow makes out settle like inner (Compose and OrElse after their
// callback returned).
func (out *Future[T]) follow(inner *Future[T]) {
	if inner == nil {
		var zero T
		out.settle(zero, errNilFuture, false, nil)
		return
	}
	if out.traced() {
		if it := inner.rec(); it != nil {
			out.ext.trace.linked(it)
		}
	}
	out.lock()
	if out.state() == pending {
		out.src = inner // cancellation now goes to the inner future
	}
	out.unlock()
	inner.addCont(out)
}

// Handle returns a future settled by fn(v, err) whatever the outcome of f.
func Handle[T, U any](f *Future[T], fn func(T, error) (U, error)) *Future[U] {
	n := &handleNode[T, U]{fn: fn}
	pendingOn(&n.p.fut, f)
	if up := f.rec(); up != nil {
		derive(&n.p.fut, up, "handle", fn)
	} else if logx.Debug() {
		n.p.fut.noteSite()
	}
	f.addCont(n)
	return &n.p.fut
}

type handleNode[T, U any] struct {
	p  Promise[U]
	fn func(T, error) (U, error)
}

func (n *handleNode[T, U]) complete(v T, err error) {
	n.p.fut.begin()
	out := &n.p.fut
	if out.state() != pending {
		return
	}
	var u U
	var uerr error
	if perr := protect(func() { u, uerr = n.fn(v, err) }); perr != nil {
		var zero U
		u, uerr = zero, perr
	}
	out.settle(u, uerr, false, nil)
}

// Finally returns a future that settles like f after fn has run; if fn
// panics, it rejects with the *PanicError instead.
func (f *Future[T]) Finally(fn func()) *Future[T] {
	n := &finallyNode[T]{fn: fn}
	pendingOn(&n.p.fut, f)
	if up := f.rec(); up != nil {
		derive(&n.p.fut, up, "finally", fn)
	} else if logx.Debug() {
		n.p.fut.noteSite()
	}
	f.addCont(n)
	return &n.p.fut
}

type finallyNode[T any] struct {
	p  Promise[T]
	fn func()
}

func (n *finallyNode[T]) complete(v T, err error) {
	n.p.fut.begin()
	if perr := protect(n.fn); perr != nil {
		var zero T
		n.p.fut.settle(zero, perr, false, nil)
		return
	}
	n.p.fut.settle(v, err, false, nil)
}

// OnComplete calls fn with the outcome of f, on the goroutine that settles
// f (at once if f has settled). It counts as handling a rejection. A panic
// in fn is reported through the unhandled-rejection handler.
func (f *Future[T]) OnComplete(fn func(T, error)) {
	f.addCont(completeFunc[T](fn))
}

type completeFunc[T any] func(T, error)

func (c completeFunc[T]) complete(v T, err error) {
	if perr := protect(func() { c(v, err) }); perr != nil {
		reportUnhandled(perr)
	}
}

// Compose returns a future that follows the future fn(v) returns when f
// resolves with v: futures of futures are flattened. A nil future from fn
// rejects with an error.
func Compose[T, U any](f *Future[T], fn func(T) *Future[U]) *Future[U] {
	n := &composeNode[T, U]{fn: fn}
	pendingOn(&n.p.fut, f)
	if up := f.rec(); up != nil {
		derive(&n.p.fut, up, "compose", fn)
	} else if logx.Debug() {
		n.p.fut.noteSite()
	}
	f.addCont(n)
	return &n.p.fut
}

type composeNode[T, U any] struct {
	p  Promise[U]
	fn func(T) *Future[U]
}

func (n *composeNode[T, U]) complete(v T, err error) {
	n.p.fut.begin()
	out := &n.p.fut
	var zero U
	if err != nil {
		out.settle(zero, err, false, nil)
		return
	}
	if out.state() != pending {
		return
	}
	var inner *Future[U]
	if perr := protect(func() { inner = n.fn(v) }); perr != nil {
		out.settle(zero, perr, false, nil)
		return
	}
	out.follow(inner)
}

// Via returns a future that settles like f, but on e: f's outcome is
// handed to e.Execute, which settles the returned future, so its
// continuations run where e runs them (an event loop, for example). A nil
// e means Inline.
func (f *Future[T]) Via(e Executor) *Future[T] {
	if e == nil {
		e = Inline
	}
	n := &viaNode[T]{e: e}
	pendingOn(&n.p.fut, f)
	if up := f.rec(); up != nil {
		derive(&n.p.fut, up, "via", nil)
	} else if logx.Debug() {
		n.p.fut.noteSite()
	}
	f.addCont(n)
	return &n.p.fut
}

type viaNode[T any] struct {
	p Promise[T]
	e Executor
}

func (n *viaNode[T]) complete(v T, err error) {
	n.p.fut.begin()
	n.e.Execute(func() { n.p.fut.settle(v, err, false, nil) })
}
