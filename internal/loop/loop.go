package loop

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	errorx "github.com/panjf2000/gnet/v2/pkg/errors"
	"github.com/panjf2000/gnet/v2/pkg/netpoll"
	"github.com/panjf2000/gnet/v2/pkg/queue"
	"go.uber.org/zap"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/loopmark"
	"github.com/goasync/goasync/internal/stats"
)

// readBufSize is the size of each loop's read buffer.
const readBufSize = 64 << 10

// Loop is one event loop: a netpoll.Poller on a locked OS thread.
type Loop struct {
	id     int
	rt     *Runtime
	poller *netpoll.Poller

	// Loop goroutine only.
	fds         []*FD // by descriptor number
	nfds        int
	buf         []byte
	grave       []*FD // closed in this batch (poll_opt)
	graveQueued bool

	timers timers

	// mark names the loop goroutine; on Linux it is locked to its thread
	// only in sessions (callbacks and tasks), not while it polls: see
	// enter. Loop goroutine only, like leaveQueued.
	mark        *loopmark.Marker
	leaveQueued bool
	lastYield   int64 // loop clock at the last yieldIfDue that yielded
	now         int64 // loop clock when the current batch began (Clock)

	// The task functions handed to the poller, bound once: a method
	// value made at each Trigger would be one allocation per task.
	taskFn, leaveFn queue.Func

	stopping atomic.Bool
	inflight atomic.Int64
	done     chan struct{}

	// Tasks handed over while the loop stops run on the loop goroutine
	// after it told every descriptor (late); once that is drained the loop
	// has exited and Execute runs functions on the caller.
	lateMu sync.Mutex
	late   []func()
	exited atomic.Bool
}

func newLoop(rt *Runtime, id int) (*Loop, error) {
	p, err := netpoll.OpenPoller()
	if err != nil {
		return nil, err
	}
	l := &Loop{id: id, rt: rt, poller: p, buf: make([]byte, readBufSize), done: make(chan struct{})}
	l.timers.l = l
	l.taskFn, l.leaveFn = l.task, l.leave
	return l, nil
}

// Clock returns the loop timers' clock (Now) as it was read when the
// loop's current batch of events began (or, where a loop has no sessions,
// at its current event), without reading the clock again: a deadline
// computed from it comes early by at most the time the batch has run so
// far. It must run on the loop.
func (l *Loop) Clock() int64 { return l.now }

// ID returns the loop's number in its runtime (from 0), for logs.
func (l *Loop) ID() int { return l.id }

// Runtime returns the runtime the loop belongs to.
func (l *Loop) Runtime() *Runtime { return l.rt }

// start runs the loop goroutine; it returns once the goroutine is marked.
func (l *Loop) start() {
	ready := make(chan struct{})
	go l.run(ready)
	<-ready
}

func (l *Loop) run(ready chan struct{}) {
	defer close(l.done)
	l.mark = loopmark.NewMarker(l)
	l.now = Now()
	if !loopmark.Sessions {
		l.mark.Enter() // one session for the loop's life
	}
	stats.Loops.Add(1)
	close(ready)
	err := l.poll()
	l.mark.Enter() // the stop runs callbacks: one session to the end
	l.now = Now()
	if err != nil && err != errorx.ErrEngineShutdown {
		l.rt.logger().Error("goasync loop: poller failed", zap.Int("loop", l.id), zap.Error(err))
		l.stopping.Store(true)
		for l.inflight.Load() != 0 {
			runtime.Gosched()
		}
	}
	// Everything still registered settles; tasks queued before the stop
	// already ran (the stop task was the last one queued), those handed
	// over since run here, after it.
	l.stopAll()
	l.timers.stop()
	l.drainLate()
	_ = l.poller.Close()
	stats.Loops.Add(-1)
	l.mark.Unmark() // the locked thread ends with this goroutine
}

// enter starts a session (loopmark) before a callback or task runs on the
// loop, unless one is on: the goroutine is locked to its thread and counts
// as the loop for OnLoop and loopmark.Current. The session ends in a task
// queued now, which runs after the current batch of events (netpoll runs
// tasks after events), so the loop is unlocked again before its poller
// finds no event and yields (runtime.Gosched): a locked goroutine that
// yields hands its P to another thread and back, two futex wake-ups and
// two context switches per idle turn of the loop (about 5% of an echo
// server's CPU). The task's eventfd write also makes the next poll return
// at once, so no yield happens while locked. A session costs a gettid and
// that write, once per one or two batches of events instead of once per
// idle turn.
func (l *Loop) enter() {
	l.mark.Enter()
	l.now = Now()
	if l.leaveQueued {
		return
	}
	if err := l.poller.Trigger(queue.HighPriority, l.leaveFn, nil); err == nil {
		l.leaveQueued = true
	}
	// Else the poller is closing: the session lasts to the loop's end.
}

// session runs before each callback and task on the loop: it enters a
// session unless one is on. Where a loop has no sessions (its one session
// lasts its life, and it is never locked), it yields to the scheduler from
// time to time here instead of at the end of a session.
func (l *Loop) session() {
	if !l.mark.In() {
		l.enter()
	} else if !loopmark.Sessions {
		l.yieldIfDue()
	}
}

// leave ends the session; it runs as a task (not in a session of its
// own).
func (l *Loop) leave(any) error {
	l.leaveQueued = false
	l.mark.Leave()
	l.yieldIfDue()
	return nil
}

// yieldEvery is how long a busy loop runs at most before it passes through
// the Go scheduler (runtime.Gosched) once.
const yieldEvery = int64(time.Millisecond)

// yieldIfDue yields to the Go scheduler if the loop has not done so for
// yieldEvery; it runs only where the goroutine is not locked to its thread
// (after a session on Linux, anywhere elsewhere). A loop under load never
// finds an empty poll, so gnet's poller never yields for it: the goroutine
// then runs for 10 ms without a scheduling point, the runtime's monitor
// (sysmon) preempts it, taking its P away in the middle of a read or write
// system call, and from then on polls every 20 µs instead of sleeping for
// up to 10 ms. On a one-P server that was about 7,000 context switches a
// second and 15% fewer HTTP requests per CPU-second. A Gosched with nothing
// else to run costs well under a microsecond; once a millisecond it keeps
// sysmon asleep and lets other goroutines of the P run.
func (l *Loop) yieldIfDue() {
	now := Now()
	l.now = now
	if now-l.lastYield >= yieldEvery {
		l.lastYield = now
		runtime.Gosched()
	}
}

// stopAll tells every registered descriptor that the loop stops, then
// closes what is left.
func (l *Loop) stopAll() {
	for fd := range l.fds {
		if f := l.fds[fd]; f != nil {
			if perr := future.Protect(f.h.OnLoopStop); perr != nil {
				l.rt.logger().Error("goasync loop: panic while stopping a descriptor",
					zap.Any("panic", perr.Value), zap.ByteString("stack", perr.Stack))
			}
			if l.fds[fd] == f {
				_ = f.Close()
			}
		}
	}
	l.grave = nil
}

// drainLate runs the tasks handed over while the loop stopped, until none
// is left; then the loop counts as exited.
func (l *Loop) drainLate() {
	for {
		l.lateMu.Lock()
		batch := l.late
		l.late = nil
		if len(batch) == 0 {
			l.exited.Store(true)
			l.lateMu.Unlock()
			return
		}
		l.lateMu.Unlock()
		for _, fn := range batch {
			l.runProtected(fn)
		}
	}
}

// stop makes the loop exit after every task queued so far, and waits.
func (l *Loop) stop() {
	l.stopping.Store(true)
	for l.inflight.Load() != 0 {
		runtime.Gosched()
	}
	if err := l.poller.Trigger(queue.HighPriority, stopTask, nil); err != nil {
		l.rt.logger().Error("goasync loop: cannot stop", zap.Int("loop", l.id), zap.Error(err))
	}
	<-l.done
}

func stopTask(any) error { return errorx.ErrEngineShutdown }

// Execute runs fn on the loop, after the tasks queued before it (FIFO). It
// is safe from any goroutine. While the loop stops, fn runs on the loop
// goroutine after every descriptor was told; once the loop has exited, fn
// runs at once on the calling goroutine, so work handed to a stopped loop
// still settles its futures instead of being lost.
func (l *Loop) Execute(fn func()) {
	l.inflight.Add(1)
	if l.stopping.Load() {
		l.inflight.Add(-1)
		l.handOver(fn)
		return
	}
	// HighPriority: netpoll keeps one FIFO for it; LowPriority tasks may
	// overflow into a second queue and overtake each other.
	err := l.poller.Trigger(queue.HighPriority, l.taskFn, fn)
	l.inflight.Add(-1)
	if err != nil {
		l.handOver(fn)
	}
}

// handOver runs fn for a stopping loop: queued for the loop goroutine
// until it has exited, then on the caller.
func (l *Loop) handOver(fn func()) {
	if !l.exited.Load() {
		l.lateMu.Lock()
		if !l.exited.Load() {
			l.late = append(l.late, fn)
			l.lateMu.Unlock()
			return
		}
		l.lateMu.Unlock()
	}
	l.runProtected(fn)
}

// gone reports whether the loop goroutine has exited: descriptors are
// then closed by whoever holds them, without the loop's tables.
func (l *Loop) gone() bool { return l.exited.Load() }

// Exited reports whether the loop has exited: work handed to it (Execute)
// then runs on the caller's goroutine.
func (l *Loop) Exited() bool { return l.gone() }

// task runs one queued function; a method value made once per loop.
func (l *Loop) task(p any) error {
	l.session()
	l.runProtected(p.(func()))
	return nil
}

func (l *Loop) runProtected(fn func()) {
	if perr := future.Protect(fn); perr != nil {
		l.rt.logger().Error("goasync loop: panic in a task",
			zap.Int("loop", l.id), zap.Any("panic", perr.Value), zap.ByteString("stack", perr.Stack))
	}
}

// OnLoop reports whether the caller runs on this loop's goroutine.
func (l *Loop) OnLoop() bool {
	return l.mark != nil && l.mark.Mine()
}

// bury keeps a closed FD referenced until the current batch of events is
// over (poll_opt: the kernel's event data may still point at it).
func (l *Loop) bury(f *FD) {
	l.grave = append(l.grave, f)
	if !l.graveQueued && !l.stopping.Load() {
		l.graveQueued = true
		l.Execute(l.clearGrave)
	}
}

// clearGrave runs as a task, that is after the batch's events.
func (l *Loop) clearGrave() {
	clear(l.grave)
	l.grave = l.grave[:0]
	l.graveQueued = false
}

// Buffer returns the loop's read buffer for a read done on the loop (a
// DNS query's datagram): what is read into it is valid until the calling
// callback returns. Loop only.
func (l *Loop) Buffer() []byte { return l.buf }
