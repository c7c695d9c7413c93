package dns

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"time"

	"github.com/goasync/goasync/future"
)

// DefaultAttemptDelay is the Connection Attempt Delay that RFC 8305 section
// 5 recommends: how long HappyEyeballs lets one attempt run alone before it
// starts the next.
const DefaultAttemptDelay = 250 * time.Millisecond

// minAttemptDelay is RFC 8305's lower bound for the delay.
const minAttemptDelay = 10 * time.Millisecond

// DialOrder returns addrs in the order RFC 8305 section 4 tries them: the
// address families interleaved, IPv6 first ("2001:db8::1, 192.0.2.1,
// 2001:db8::2, 192.0.2.2, ..."), keeping the order within each family.
// IPv4-mapped IPv6 addresses count as IPv4. addrs is not modified.
func DialOrder(addrs []netip.Addr) []netip.Addr {
	var v6, v4 []netip.Addr
	for _, a := range addrs {
		if a.Is4() || a.Is4In6() {
			v4 = append(v4, a)
		} else {
			v6 = append(v6, a)
		}
	}
	out := make([]netip.Addr, 0, len(addrs))
	for i := 0; i < len(v6) || i < len(v4); i++ {
		if i < len(v6) {
			out = append(out, v6[i])
		}
		if i < len(v4) {
			out = append(out, v4[i])
		}
	}
	return out
}

// HappyEyeballs connects to one of addrs the way RFC 8305 ("Happy Eyeballs
// Version 2") says: in DialOrder (IPv6 first), starting the next attempt
// when the current one has run for delay (DefaultAttemptDelay when delay is
// 0; at least 10ms) or as soon as it fails, with attempts overlapping. The
// first attempt that connects wins; the others are cancelled, and one that
// connects anyway is handed to release (which should close it). If every
// attempt fails, the future rejects with the single error, or errors.Join of
// all of them in attempt order.
//
// dial starts one attempt and must not block; it is called with ctx. Ending
// ctx, or cancelling the returned future, cancels every attempt.
//
// The package does not connect sockets itself (tcp imports dns, not the
// other way round): tcp.Connect calls Lookup and then HappyEyeballs with its
// own dial function.
func HappyEyeballs[C any](ctx context.Context, addrs []netip.Addr, dial func(ctx context.Context, ip netip.Addr) *future.Future[C], release func(C), delay time.Duration) *future.Future[C] {
	if len(addrs) == 0 {
		return future.Rejected[C](errors.New("dns: HappyEyeballs: no addresses"))
	}
	if ctx != nil && ctx.Err() != nil {
		return future.Rejected[C](context.Cause(ctx))
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if delay == 0 {
		delay = DefaultAttemptDelay
	}
	r := &race[C]{
		ctx:     ctx,
		addrs:   DialOrder(addrs),
		dial:    dial,
		release: release,
		delay:   max(delay, minAttemptDelay),
		p:       future.New[C](),
	}
	r.p.OnCancel(r.cancel)
	r.launch()
	return future.WithContext(ctx, r.p.Future())
}

// race is one HappyEyeballs run.
type race[C any] struct {
	ctx     context.Context
	addrs   []netip.Addr
	dial    func(context.Context, netip.Addr) *future.Future[C]
	release func(C)
	delay   time.Duration
	p       *future.Promise[C]

	mu       sync.Mutex
	next     int // index of the next address to try
	running  int
	attempts []*future.Future[C]
	errs     []error
	timer    *time.Timer
	done     bool
}

// launch starts the attempt on the next address, and arms the timer that
// starts the one after it.
func (r *race[C]) launch() {
	r.mu.Lock()
	if r.done || r.next >= len(r.addrs) {
		r.mu.Unlock()
		return
	}
	ip := r.addrs[r.next]
	r.next++
	r.running++
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
	if r.next < len(r.addrs) {
		r.timer = time.AfterFunc(r.delay, r.launch)
	}
	r.mu.Unlock()

	f := r.dial(r.ctx, ip)
	r.mu.Lock()
	if r.done {
		r.mu.Unlock()
		f.Cancel(nil)
		f.OnComplete(r.lateResult)
		return
	}
	r.attempts = append(r.attempts, f)
	r.mu.Unlock()
	f.OnComplete(func(c C, err error) { r.settled(f, c, err) })
}

// lateResult releases a connection that won after the race was decided.
func (r *race[C]) lateResult(c C, err error) {
	if err == nil && r.release != nil {
		r.release(c)
	}
}

// settled handles the outcome of one attempt.
func (r *race[C]) settled(f *future.Future[C], c C, err error) {
	r.mu.Lock()
	r.running--
	if r.done {
		r.mu.Unlock()
		r.lateResult(c, err)
		return
	}
	if err == nil {
		r.done = true
		r.stopTimerLocked()
		others := r.othersLocked(f)
		r.mu.Unlock()
		if !r.p.Resolve(c) {
			r.lateResult(c, nil) // cancelled meanwhile
		}
		for _, o := range others {
			o.Cancel(nil)
		}
		return
	}
	r.errs = append(r.errs, err)
	if r.next < len(r.addrs) {
		r.mu.Unlock()
		r.launch() // a failure starts the next attempt at once
		return
	}
	if r.running > 0 {
		r.mu.Unlock()
		return
	}
	r.done = true
	r.stopTimerLocked()
	errs := r.errs
	r.mu.Unlock()
	if len(errs) == 1 {
		r.p.Reject(errs[0])
	} else {
		r.p.Reject(errors.Join(errs...))
	}
}

// cancel stops the race when its future is cancelled (or its ctx ends).
func (r *race[C]) cancel(cause error) {
	r.mu.Lock()
	r.done = true
	r.stopTimerLocked()
	all := r.othersLocked(nil)
	r.mu.Unlock()
	for _, f := range all {
		f.Cancel(cause)
	}
}

func (r *race[C]) stopTimerLocked() {
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
}

func (r *race[C]) othersLocked(except *future.Future[C]) []*future.Future[C] {
	out := make([]*future.Future[C], 0, len(r.attempts))
	for _, a := range r.attempts {
		if a != except {
			out = append(out, a)
		}
	}
	return out
}
