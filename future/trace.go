package future

import (
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/goasync/goasync/internal/logx"
)

// trace is the debug record of a named future.
type trace struct {
	name  string
	id    uint64
	start time.Time
}

var traceIDs atomic.Uint64

// Named gives the future a name for tracing and returns f. When the
// library logger records debug entries, the future logs one debug entry
// when it settles, with the fields name, id (unique per Named call),
// stage (resolve, reject or cancel), duration (since Named, normally
// called right after the future was created) and error. When debug is
// off, Named does nothing and allocates nothing.
func (f *Future[T]) Named(name string) *Future[T] {
	if !logx.Debug() {
		return f
	}
	tr := &trace{name: name, id: traceIDs.Add(1), start: time.Now()}
	f.lock()
	if f.state() == pending {
		f.extLocked().trace = tr
		f.unlock()
		return f
	}
	canceled, err := f.flags&flagCanceled != 0, f.err
	f.unlock()
	tr.settled(canceled, err)
	return f
}

func (tr *trace) settled(canceled bool, err error) {
	if !logx.Debug() {
		return
	}
	stage := "resolve"
	switch {
	case canceled:
		stage = "cancel"
	case err != nil:
		stage = "reject"
	}
	logx.L().Debug("future settled",
		zap.String("name", tr.name),
		zap.Uint64("id", tr.id),
		zap.String("stage", stage),
		zap.Duration("duration", time.Since(tr.start)),
		zap.Error(err))
}
