package future

import (
	"errors"
	"runtime"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/goasync/goasync/internal/logx"
)

var unhandled atomic.Pointer[func(error)]

// SetUnhandledHandler sets the function told about rejections that nobody
// observed; nil restores the default, a zap warning on the library logger.
// When the library logger records debug entries, the warning also says
// where the future was made (the field "created", file:line of the first
// caller outside goasync), and for a traced future (see Trace) names its
// pipeline and step.
//
// A rejection counts as observed when a continuation is attached to the
// future (Then, Catch, OnComplete, a combinator, ...), or when Await or
// Result returns the error. Cancellations are never reported. An
// unobserved rejection is reported once, when the garbage collector finds
// the rejected future unreachable: only then is it certain that nobody
// will handle it. Panics in OnComplete callbacks and OnCancel hooks, which
// have no future to reject, are reported the same way at once.
//
// fn runs on a runtime goroutine, so it must not block.
func SetUnhandledHandler(fn func(error)) {
	if fn == nil {
		unhandled.Store(nil)
		return
	}
	unhandled.Store(&fn)
}

func reportUnhandled(err error) { reportUnhandledAt(lost{err: err}) }

// lost is an unobserved rejection and, with debug on, where the future
// was made (and, for a traced future, which step it was).
type lost struct {
	err  error
	tr   *trace
	made *[10]uintptr
}

func reportUnhandledAt(l lost) {
	if p := unhandled.Load(); p != nil {
		(*p)(l.err)
		return
	}
	if l.tr == nil {
		if l.made != nil {
			if at := siteOf(l.made); at != "" {
				logx.L().Warn("future: unhandled rejection", zap.Error(l.err), zap.String("created", at))
				return
			}
		}
		logx.L().Warn("future: unhandled rejection", zap.Error(l.err))
		return
	}
	logx.L().Warn("future: unhandled rejection", zap.Error(l.err),
		zap.String("created", l.tr.site()),
		zap.String("trace", l.tr.tid),
		zap.Uint64("id", l.tr.id),
		zap.String("name", l.tr.displayName()))
}

// reportable reports whether an unobserved rejection with err is worth a
// report: cancellations were asked for by a consumer, so they are not.
func reportable(err error) bool { return !errors.Is(err, ErrCanceled) }

// armUnhandledLocked registers the report to run when f is collected.
func (f *Future[T]) armUnhandledLocked(err error) {
	x := f.extLocked()
	if x.armed {
		return
	}
	x.cleanup = runtime.AddCleanup(f, reportUnhandledAt, lost{err: err, tr: x.trace, made: x.made})
	x.armed = true
}
