package runtime

import (
	"context"
	"errors"
	"fmt"
	"net"
	goruntime "runtime"
	"sync"
	"sync/atomic"

	"github.com/panjf2000/gnet/v2"
	"go.uber.org/zap"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/logx"
	"github.com/goasync/goasync/internal/loopmark"
	"github.com/goasync/goasync/internal/stats"
)

// ErrClosed rejects work handed to a Runtime that is shut down, and every
// pending dial when it shuts down. It matches net.ErrClosed.
var ErrClosed = fmt.Errorf("goasync runtime: closed: %w", net.ErrClosed)

// Handler receives the events of one connection. Every method runs on the
// connection's event loop, in order, and must not block.
type Handler interface {
	// OnOpen runs once, when the connection is registered on its loop.
	OnOpen(c gnet.Conn)
	// OnTraffic runs when bytes (or a datagram) arrived. It must consume
	// or copy what it needs: gnet's buffers are reused after it returns.
	OnTraffic(c gnet.Conn) gnet.Action
	// OnClose runs once, when the connection is closed; err is nil for a
	// close asked for by this side, else the reason (io.EOF for a peer
	// close).
	OnClose(c gnet.Conn, err error)
}

// Option configures a Runtime made by New.
type Option func(*config)

type config struct {
	loops int
}

// WithLoops sets the number of event loops of the outbound client engine
// and the default loop count of listeners. n <= 0 means GOMAXPROCS.
func WithLoops(n int) Option { return func(c *config) { c.loops = n } }

const (
	stateNew = iota
	stateRunning
	stateStopping
	stateStopped
)

// Runtime is a set of gnet engines plus the bookkeeping that lets every
// future it hands out settle, even at shutdown.
type Runtime struct {
	loops int

	mu        sync.Mutex
	state     int
	startErr  error
	client    *gnet.Client
	poller    *poller
	listeners map[*Listener]struct{}
	dials     map[*dialOp]struct{}
	stopHooks map[uint64]func()
	hookSeq   uint64
	inflight  sync.WaitGroup
	base      context.Context
	cancel    context.CancelFunc

	loopStates sync.Map // gnet.EventLoop -> *loopState
	nLoops     atomic.Int64
}

var (
	defMu sync.Mutex
	def   *Runtime
)

// Default returns the shared runtime, creating it on first use. Its engines
// start lazily, on the first Dial or Listen. After it was shut down,
// Default returns a fresh one.
func Default() *Runtime {
	defMu.Lock()
	defer defMu.Unlock()
	if def == nil || def.isStopped() {
		def = newRuntime()
	}
	return def
}

// ShutdownDefault shuts the shared runtime down if it was ever created.
func ShutdownDefault(ctx context.Context) error {
	defMu.Lock()
	r := def
	defMu.Unlock()
	if r == nil {
		return nil
	}
	return r.Shutdown(ctx)
}

// New makes and starts an explicit runtime, for tests and for programs that
// want engines of their own.
func New(opts ...Option) (*Runtime, error) {
	r := newRuntime(opts...)
	if err := r.start(); err != nil {
		return nil, err
	}
	return r, nil
}

func newRuntime(opts ...Option) *Runtime {
	cfg := config{}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.loops <= 0 {
		cfg.loops = goruntime.GOMAXPROCS(0)
	}
	r := &Runtime{
		loops:     cfg.loops,
		listeners: make(map[*Listener]struct{}),
		dials:     make(map[*dialOp]struct{}),
		stopHooks: make(map[uint64]func()),
	}
	r.base, r.cancel = context.WithCancel(context.Background())
	return r
}

// Loops returns the number of event loops of the client engine.
func (r *Runtime) Loops() int { return r.loops }

func (r *Runtime) isStopped() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state >= stateStopping
}

// start starts the client engine and the poller once.
func (r *Runtime) start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch r.state {
	case stateRunning:
		return nil
	case stateStopping, stateStopped:
		return ErrClosed
	}
	if r.startErr != nil {
		return r.startErr
	}
	p, err := newPoller()
	if err != nil {
		r.startErr = err
		return err
	}
	cli, err := gnet.NewClient(&clientEvents{r: r},
		gnet.WithNumEventLoop(r.loops),
		gnet.WithLogger(logx.L().Sugar()),
		gnet.WithTCPNoDelay(gnet.TCPNoDelay),
	)
	if err == nil {
		err = cli.Start()
	}
	if err != nil {
		p.close()
		r.startErr = fmt.Errorf("goasync runtime: start gnet client: %w", err)
		return r.startErr
	}
	r.poller = p
	r.client = cli
	r.addLoops(int64(r.loops))
	r.state = stateRunning
	return nil
}

func (r *Runtime) addLoops(n int64) {
	r.nLoops.Add(n)
	stats.Loops.Add(n)
}

// OnStop registers fn to run once when the runtime shuts down, after its
// engines stopped. The tcp layer uses it for sockets that outlive their
// gnet connection (a write side still draining after the peer's FIN). The
// returned function removes the hook. If the runtime is already stopping,
// fn runs at once on a goroutine of its own (the caller may hold locks fn
// needs).
func (r *Runtime) OnStop(fn func()) (remove func()) {
	r.mu.Lock()
	if r.state >= stateStopping {
		r.mu.Unlock()
		go fn()
		return func() {}
	}
	r.hookSeq++
	id := r.hookSeq
	r.stopHooks[id] = fn
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		delete(r.stopHooks, id)
		r.mu.Unlock()
	}
}

// Shutdown stops accepting work, stops every listener and the client
// engine, and settles everything pending: dials reject with ErrClosed, open
// connections receive OnClose, stop hooks run. It returns ctx's error if ctx
// ends first; the remaining steps still run in the background and settle
// everything.
//
// Shutdown waits for the loops to stop, so on a loop goroutine it returns
// future.ErrAwaitOnLoop at once instead of deadlocking.
func (r *Runtime) Shutdown(ctx context.Context) error {
	if loopmark.OnLoop() {
		return future.ErrAwaitOnLoop
	}
	r.mu.Lock()
	if r.state >= stateStopping {
		r.mu.Unlock()
		return nil
	}
	wasRunning := r.state == stateRunning
	r.state = stateStopping
	r.cancel()
	lns := make([]*Listener, 0, len(r.listeners))
	for l := range r.listeners {
		lns = append(lns, l)
	}
	r.mu.Unlock()

	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, l := range lns {
			_ = l.stop()
		}
		// Dials in flight finish fast once base is canceled: the connect is
		// aborted, or the registration into a running loop completes.
		r.inflight.Wait()
		if wasRunning {
			_ = r.client.Stop()
			r.addLoops(-int64(r.loops))
			r.poller.close()
		}
		r.mu.Lock()
		dials := r.dials
		r.dials = map[*dialOp]struct{}{}
		hooks := r.stopHooks
		r.stopHooks = map[uint64]func(){}
		r.state = stateStopped
		r.mu.Unlock()
		for op := range dials {
			op.fail(ErrClosed)
		}
		for _, fn := range hooks {
			fn()
		}
		r.unmarkLoops(nil)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// loopState is per event loop: whether its goroutine is marked.
type loopState struct {
	marked bool // touched only on the loop goroutine
	id     int64
	owner  any // the *Listener whose engine runs the loop; nil: client engine
	exec   loopExecutor
	unmark atomic.Pointer[func()]
}

var loopIDs atomic.Int64

// LoopID returns a small number naming c's event loop in logs (0 when the
// loop has not run a callback yet).
func (r *Runtime) LoopID(c gnet.Conn) int64 {
	if v, ok := r.loopStates.Load(c.EventLoop()); ok {
		return v.(*loopState).id
	}
	return 0
}

// markLoop marks the calling loop goroutine once. It must run on c's loop.
func (r *Runtime) markLoop(c gnet.Conn, owner any) {
	el := c.EventLoop()
	v, ok := r.loopStates.Load(el)
	if !ok {
		v, _ = r.loopStates.LoadOrStore(el, &loopState{id: loopIDs.Add(1), owner: owner, exec: loopExecutor{el: el}})
	}
	ls := v.(*loopState)
	if ls.marked {
		return
	}
	ls.marked = true
	u := loopmark.Mark(ls.exec)
	ls.unmark.Store(&u)
}

// unmarkLoops removes the marks of owner's loops (owner nil: the client
// engine's) and forgets them. Call it once the engine's loops exited:
// loopmark keys marks by OS thread id, a thread ends with its locked loop
// goroutine, and its id could be reused later.
func (r *Runtime) unmarkLoops(owner any) {
	r.loopStates.Range(func(k, v any) bool {
		ls := v.(*loopState)
		if ls.owner != owner {
			return true
		}
		if u := ls.unmark.Load(); u != nil {
			(*u)()
		}
		r.loopStates.Delete(k)
		return true
	})
}

// loopExecutor runs functions on one gnet event loop.
type loopExecutor struct{ el gnet.EventLoop }

// Execute queues fn on the loop. If the loop no longer runs (its engine
// stopped) fn runs at once on the calling goroutine, so work handed to a
// stopped loop still settles its futures instead of being lost.
func (e loopExecutor) Execute(fn func()) {
	err := e.el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
		fn()
		return nil
	}))
	if err != nil {
		fn()
	}
}

// LoopExecutor returns an executor that runs functions on c's event loop,
// in the order they were handed to it (gnet's normal-priority task queue:
// not ordered against gnet's AsyncWrite, which uses the urgent one). It is
// safe to use from any goroutine.
func LoopExecutor(c gnet.Conn) future.Executor { return loopExecutor{el: c.EventLoop()} }

// logEvent writes one debug line for a socket event when debug logging is on.
func (r *Runtime) logEvent(event string, c gnet.Conn, err error, fields ...zap.Field) {
	if !logx.Debug() {
		return
	}
	fs := append(fields, zap.String("event", event), zap.Int("fd", c.Fd()), zap.Int64("loop", r.LoopID(c)))
	if err != nil {
		fs = append(fs, zap.Error(err))
	}
	logx.L().Debug("runtime socket event", fs...)
}

var errNoHandler = errors.New("goasync runtime: nil handler")
