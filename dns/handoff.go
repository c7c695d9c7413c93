package dns

import (
	"sync"

	"github.com/goasync/goasync/internal/loop"
)

// handoff carries work from goroutines outside the event loops to the loop
// their queries run on (loopTransport.home), in batches: the first function
// of a batch queues one task on the loop; those added before it runs join
// the batch without a task of their own. Under load that is one task, one
// entry in the poller's queue and at most one eventfd wake-up per turn of
// the loop instead of one per lookup.
type handoff struct {
	mu     sync.Mutex
	batch  []func()
	spare  []func()
	queued bool
}

// run hands fn to l (or to the loop that the batch in progress was handed
// to: every batch runs on some loop, in order).
func (h *handoff) run(l *loop.Loop, fn func()) {
	h.mu.Lock()
	h.batch = append(h.batch, fn)
	first := !h.queued
	h.queued = true
	h.mu.Unlock()
	if first {
		l.Execute(h.drain)
	}
}

// drain runs the batch, on the loop. Functions handed over while it runs
// form the next batch, with a task of their own.
func (h *handoff) drain() {
	h.mu.Lock()
	batch := h.batch
	h.batch = h.spare[:0]
	h.spare = nil
	h.queued = false
	h.mu.Unlock()
	for i, fn := range batch {
		batch[i] = nil
		fn()
	}
	h.mu.Lock()
	if h.spare == nil && cap(batch) <= 1024 {
		h.spare = batch[:0]
	}
	h.mu.Unlock()
}
