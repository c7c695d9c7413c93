package loop

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/logx"
	"github.com/goasync/goasync/internal/loopmark"
)

// ErrClosed rejects work handed to a Runtime that is shut down, and
// everything pending when it shuts down. It matches net.ErrClosed.
var ErrClosed = fmt.Errorf("goasync runtime: closed: %w", net.ErrClosed)

// Option configures a Runtime made by New.
type Option func(*config)

type config struct {
	loops  int
	logger *zap.Logger
}

// WithLoops sets the number of event loops; n <= 0 means GOMAXPROCS.
func WithLoops(n int) Option { return func(c *config) { c.loops = n } }

// WithLogger gives the runtime a logger of its own (default: the library
// logger set with goasync.SetLogger).
func WithLogger(l *zap.Logger) Option { return func(c *config) { c.logger = l } }

// Runtime is a set of event loops shared by every listener, dial, DNS
// socket and timer that runs on it.
type Runtime struct {
	loops []*Loop
	rr    atomic.Uint32
	log   *zap.Logger

	mu        sync.Mutex
	stopping  bool
	listeners map[*Listener]struct{}
	stopHooks map[uint64]func()
	hookSeq   uint64
	done      chan struct{}
}

var (
	defMu sync.Mutex
	def   *Runtime
)

// Default returns the process-wide runtime, starting it on first use
// (GOMAXPROCS loops). After it was shut down, Default returns a fresh one.
func Default() *Runtime {
	defMu.Lock()
	defer defMu.Unlock()
	if def == nil || def.Stopped() {
		r, err := New()
		if err != nil {
			// Opening a poller fails only when the process is out of
			// descriptors or memory; nothing can run then.
			panic(fmt.Sprintf("goasync: cannot start the default runtime: %v", err))
		}
		def = r
	}
	return def
}

// ShutdownDefault shuts the default runtime down if it was ever started.
func ShutdownDefault(ctx context.Context) error {
	defMu.Lock()
	r := def
	defMu.Unlock()
	if r == nil {
		return nil
	}
	return r.Shutdown(ctx)
}

// New starts a runtime with its loops.
func New(opts ...Option) (*Runtime, error) {
	routeGnetLogsOnce()
	cfg := config{}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.loops <= 0 {
		cfg.loops = runtime.GOMAXPROCS(0)
	}
	r := &Runtime{
		log:       cfg.logger,
		listeners: make(map[*Listener]struct{}),
		stopHooks: make(map[uint64]func()),
		done:      make(chan struct{}),
	}
	for i := 0; i < cfg.loops; i++ {
		l, err := newLoop(r, i)
		if err != nil {
			for _, l := range r.loops {
				l.stop()
			}
			return nil, fmt.Errorf("goasync runtime: open poller: %w", err)
		}
		r.loops = append(r.loops, l)
		l.start()
	}
	return r, nil
}

func (r *Runtime) logger() *zap.Logger {
	if r.log != nil {
		return r.log
	}
	return logx.L()
}

// Logger returns the runtime's logger.
func (r *Runtime) Logger() *zap.Logger { return r.logger() }

// Loops returns the number of loops.
func (r *Runtime) Loops() int { return len(r.loops) }

// Loop returns loop i (0 <= i < Loops()).
func (r *Runtime) Loop(i int) *Loop { return r.loops[i] }

// Next returns a loop, round-robin.
func (r *Runtime) Next() *Loop {
	if len(r.loops) == 1 {
		return r.loops[0]
	}
	return r.loops[int(r.rr.Add(1)-1)%len(r.loops)]
}

// Current returns the loop of this runtime the caller runs on, or nil.
func (r *Runtime) Current() *Loop {
	e, ok := loopmark.Current()
	if !ok {
		return nil
	}
	if l, ok := e.(*Loop); ok && l.rt == r {
		return l
	}
	return nil
}

// Stopped reports whether Shutdown has begun.
func (r *Runtime) Stopped() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stopping
}

// OnStop registers fn to run once when the runtime shuts down, after its
// loops stopped (for owners of timers and other pending work that must
// settle). The returned function removes the hook. If the runtime is
// already stopping, fn runs at once on a goroutine of its own.
func (r *Runtime) OnStop(fn func()) (remove func()) {
	r.mu.Lock()
	if r.stopping {
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

// Shutdown closes every listener, stops the loops and settles everything
// pending: descriptors still registered are told (OnLoopStop; connections
// see ErrClosed), pending dials reject with ErrClosed, stop hooks run. It
// returns ctx's error if ctx ends first (the steps go on in the
// background). On a loop goroutine it returns future.ErrAwaitOnLoop at once.
func (r *Runtime) Shutdown(ctx context.Context) error {
	if loopmark.OnLoop() {
		return future.ErrAwaitOnLoop
	}
	r.mu.Lock()
	if !r.stopping {
		r.stopping = true
		lns := make([]*Listener, 0, len(r.listeners))
		for l := range r.listeners {
			lns = append(lns, l)
		}
		go r.shutdown(lns)
	}
	r.mu.Unlock()
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *Runtime) shutdown(lns []*Listener) {
	defer close(r.done)
	for _, ln := range lns {
		ln.stop()
	}
	var wg sync.WaitGroup
	for _, l := range r.loops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.stop()
		}()
	}
	wg.Wait()
	r.mu.Lock()
	hooks := r.stopHooks
	r.stopHooks = map[uint64]func(){}
	r.mu.Unlock()
	for _, fn := range hooks {
		if perr := future.Protect(fn); perr != nil {
			r.logger().Error("goasync runtime: panic in a stop hook", zap.Any("panic", perr.Value), zap.ByteString("stack", perr.Stack))
		}
	}
}
