package tlsrec

import (
	"sync"

	"github.com/goasync/goasync/future"
)

// Handshakes run on goroutines of their own, admitted by handshakes: at
// most maxActive at once that are not waiting for the peer, more wait in
// a FIFO (no goroutine) up to maxQueued. A handshake that waits for the
// peer's next flight gives its slot back (pipe.onWait), so a client that
// sent a whole ClientHello and then stalls keeps a parked goroutine until
// the handshake timeout but no slot: it never delays other handshakes.
// (On future.Go's blocking-work pool it held a worker, and 4,096 such
// clients stopped every other handshake until their timeouts.)
var handshakes = &admission{max: maxActive, maxQueued: maxQueued}

const (
	maxActive = 4096
	maxQueued = 1 << 16
)

type admission struct {
	mu        sync.Mutex
	active    int
	max       int
	maxQueued int
	q         []func() // waiting to start, FIFO
}

// submit runs fn on a new goroutine holding a slot, now or when one is
// free. It reports false when the queue is full.
func (a *admission) submit(fn func()) bool {
	a.mu.Lock()
	if a.active < a.max {
		a.active++
		a.mu.Unlock()
		go fn()
		return true
	}
	if len(a.q) >= a.maxQueued {
		a.mu.Unlock()
		return false
	}
	a.q = append(a.q, fn)
	a.mu.Unlock()
	return true
}

// release gives a slot back: the oldest queued handshake takes it.
func (a *admission) release() {
	a.mu.Lock()
	if len(a.q) > 0 {
		fn := a.q[0]
		a.q[0] = nil
		a.q = a.q[1:]
		if len(a.q) == 0 {
			a.q = nil
		}
		a.mu.Unlock()
		go fn()
		return
	}
	a.active--
	a.mu.Unlock()
}

// run hands the handshake to the admission. The caller moved the state to
// stateHandshaking.
func (e *Engine) run() {
	ok := handshakes.submit(func() {
		slot := true
		e.p.onWait = func() { // under the pipe's lock, on this goroutine
			if slot {
				slot = false
				handshakes.release()
			}
		}
		var err error
		if perr := future.Protect(func() { err = e.conn.Handshake() }); perr != nil {
			err = perr // a panic in a config callback (GetCertificate...)
		}
		if slot {
			handshakes.release()
		}
		e.finish(struct{}{}, err)
	})
	if !ok {
		e.finish(struct{}{}, future.ErrPoolFull)
	}
}
