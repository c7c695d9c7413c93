package future

import (
	"errors"
	"sync"

	"github.com/goasync/goasync/internal/logx"
	"github.com/goasync/goasync/internal/stats"
)

// Go runs fn on the package's blocking-work pool and returns a future of
// its result. Use it for work that blocks (files, system calls, CPU-heavy
// steps), never inline on an event loop.
//
// Go itself never blocks, so it is safe on an event loop. The pool runs at
// most 4096 functions at once and queues up to 65536 more in FIFO order;
// beyond that, the future rejects with ErrPoolFull. Workers are goroutines
// started on demand that exit as soon as the queue is empty, so an idle
// pool holds no goroutine. A panic in fn rejects the future with a
// *PanicError. If the future is cancelled before fn starts, fn is skipped.
func Go[T any](fn func() (T, error)) *Future[T] {
	t := &goTask[T]{fn: fn}
	t.p.fut.flags = flagCounted
	stats.PendingFutures.Add(1)
	if logx.Debug() {
		t.p.fut.noteSite()
	}
	if fn == nil {
		t.p.Reject(errNilFunc)
	} else if err := blocking.submit(t); err != nil {
		t.p.Reject(err)
	}
	return &t.p.fut
}

var errNilFunc = errors.New("future: Go called with a nil function")

type goTask[T any] struct {
	p  Promise[T]
	fn func() (T, error)
}

func (t *goTask[T]) run() {
	if t.p.fut.state() != pending {
		return // cancelled while queued
	}
	var v T
	var err error
	if perr := protect(func() { v, err = t.fn() }); perr != nil {
		var zero T
		v, err = zero, perr
	}
	t.p.fut.settle(v, err, false, nil)
}

type task interface{ run() }

// pool is a bounded set of workers in front of a bounded FIFO queue.
// Submitting never blocks. A worker keeps taking queued tasks and exits
// when the queue is empty.
type pool struct {
	mu       sync.Mutex
	running  int
	max      int
	maxQueue int
	q        []task // ring buffer, grown on demand up to maxQueue
	head, n  int
}

var blocking = newPool(4096, 1<<16)

func newPool(workers, queue int) *pool { return &pool{max: workers, maxQueue: queue} }

func (p *pool) submit(t task) error {
	p.mu.Lock()
	if p.running < p.max {
		p.running++
		p.mu.Unlock()
		go p.work(t)
		return nil
	}
	if p.n >= p.maxQueue {
		p.mu.Unlock()
		return ErrPoolFull
	}
	if p.n == len(p.q) {
		p.grow()
	}
	p.q[(p.head+p.n)%len(p.q)] = t
	p.n++
	p.mu.Unlock()
	return nil
}

func (p *pool) grow() {
	size := 2 * len(p.q)
	if size == 0 {
		size = 16
	}
	if size > p.maxQueue {
		size = p.maxQueue
	}
	q := make([]task, size)
	for i := 0; i < p.n; i++ {
		q[i] = p.q[(p.head+i)%len(p.q)]
	}
	p.q, p.head = q, 0
}

func (p *pool) work(t task) {
	for t != nil {
		t.run()
		p.mu.Lock()
		if p.n == 0 {
			p.running--
			t = nil
			if len(p.q) > 1024 {
				p.q, p.head = nil, 0 // drop a large idle buffer
			}
		} else {
			t = p.q[p.head]
			p.q[p.head] = nil
			p.head = (p.head + 1) % len(p.q)
			p.n--
		}
		p.mu.Unlock()
	}
}
