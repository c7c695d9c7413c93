package dns

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/loop"
	"github.com/goasync/goasync/internal/loopmark"
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
		lp:      startedOn(),
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

// ResolutionDelay is RFC 8305 section 3's Resolution Delay: how long
// HappyEyeballsLookup waits for IPv6 addresses when the IPv4 ones came
// first.
const ResolutionDelay = 50 * time.Millisecond

// HappyEyeballsLookup is HappyEyeballs fed by the two lookups of a name
// instead of a list (RFC 8305 sections 3 to 5): v6 and v4 are the futures of
// its AAAA and A answers (Lookup with WithFamily(FamilyV6) and
// WithFamily(FamilyV4), started together). Connecting starts as soon as
// the IPv6 answer comes, or ResolutionDelay after the IPv4 answer if the
// IPv6 one has not come by then, so a slow AAAA query does not hold IPv4
// back; addresses that come later join the attempts still to make, in
// DialOrder. The race fails once both lookups have ended and every attempt
// failed: with the attempts' errors, or with the lookups' error when no
// address was found (the IPv4 lookup's when both failed). Ending ctx or
// cancelling the returned future cancels the lookups and the attempts.
func HappyEyeballsLookup[C any](ctx context.Context, v6, v4 *future.Future[[]netip.Addr], dial func(ctx context.Context, ip netip.Addr) *future.Future[C], release func(C), delay time.Duration) *future.Future[C] {
	if ctx == nil {
		ctx = context.Background()
	}
	if ctx.Err() != nil {
		v6.Cancel(context.Cause(ctx))
		v4.Cancel(context.Cause(ctx))
		return future.Rejected[C](context.Cause(ctx))
	}
	if delay == 0 {
		delay = DefaultAttemptDelay
	}
	r := &race[C]{
		lp:      startedOn(),
		ctx:     ctx,
		dial:    dial,
		release: release,
		delay:   max(delay, minAttemptDelay),
		p:       future.New[C](),
		lookups: 2,
	}
	r.p.OnCancel(func(cause error) {
		r.cancel(cause)
		v6.Cancel(cause)
		v4.Cancel(cause)
	})
	v6.OnComplete(func(addrs []netip.Addr, err error) { r.gotV6(addrs, err) })
	v4.OnComplete(func(addrs []netip.Addr, err error) { r.gotV4(addrs, err) })
	return future.WithContext(ctx, r.p.Future())
}

// after runs fn after d: on the goasync loop the race started on (a loop
// timer: the attempt starts there, no hop), else on the background timer
// goroutine (dial functions are safe from any goroutine).
func (r *race[C]) after(d time.Duration, fn func()) *loop.Timer {
	if r.lp != nil {
		// If the loop stops first, fn runs then, so the race goes on
		// (its attempts then fail, and it settles).
		t := r.lp.NewTimer(fn, fn)
		t.Reset(d)
		return t
	}
	return loop.Background().AfterFunc(d, fn)
}

// startedOn returns the goasync loop the caller runs on, or nil.
func startedOn() *loop.Loop {
	if e, ok := loopmark.Current(); ok {
		if l, ok := e.(*loop.Loop); ok {
			return l
		}
	}
	return nil
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
	timer    *loop.Timer
	done     bool
	lp       *loop.Loop // the goasync loop the race started on, if any

	// HappyEyeballsLookup only: lookups still running, the IPv4 answer
	// held for the Resolution Delay, and the lookups' errors.
	lookups   int
	v6done    bool
	heldV4    []netip.Addr
	resTimer  *loop.Timer
	lookupErr [2]error // IPv6, IPv4
}

// gotV6 takes the IPv6 answer: its addresses, and IPv4 ones held back for
// it, join the race at once.
func (r *race[C]) gotV6(addrs []netip.Addr, err error) {
	r.mu.Lock()
	r.v6done = true
	held := r.heldV4
	r.heldV4 = nil
	if r.resTimer != nil {
		r.resTimer.Stop()
		r.resTimer = nil
	}
	r.mu.Unlock()
	r.add(append(append([]netip.Addr(nil), addrs...), held...)) // addrs may be the cache's
	r.lookupDone(0, err)
}

// gotV4 takes the IPv4 answer: it joins the race at once if the IPv6
// answer is in, else after ResolutionDelay unless the IPv6 one comes first.
func (r *race[C]) gotV4(addrs []netip.Addr, err error) {
	r.mu.Lock()
	if !r.v6done && len(addrs) > 0 {
		r.heldV4 = addrs
		r.resTimer = r.after(ResolutionDelay, r.releaseV4)
		addrs = nil
	}
	r.mu.Unlock()
	r.add(addrs)
	r.lookupDone(1, err)
}

// releaseV4 ends the Resolution Delay: the held IPv4 addresses join.
func (r *race[C]) releaseV4() {
	r.mu.Lock()
	held := r.heldV4
	r.heldV4 = nil
	r.resTimer = nil
	r.mu.Unlock()
	r.add(held)
}

// add puts addresses that just arrived among the attempts still to make
// and starts one at once if none is running or due.
func (r *race[C]) add(addrs []netip.Addr) {
	if len(addrs) == 0 {
		return
	}
	r.mu.Lock()
	if r.done {
		r.mu.Unlock()
		return
	}
	r.addrs = DialOrder(append(append([]netip.Addr(nil), r.addrs[r.next:]...), addrs...))
	r.next = 0
	idle := r.running == 0 && r.timer == nil
	if !idle && r.timer == nil {
		r.timer = r.after(r.delay, r.launch)
	}
	r.mu.Unlock()
	if idle {
		r.launch()
	}
}

// lookupDone records the end of one lookup (i: 0 IPv6, 1 IPv4) and fails
// the race if it was the last thing it waited for.
func (r *race[C]) lookupDone(i int, err error) {
	r.mu.Lock()
	r.lookups--
	r.lookupErr[i] = err
	r.mu.Unlock()
	r.maybeFail()
}

// maybeFail rejects the race when nothing is running, due or awaited.
func (r *race[C]) maybeFail() {
	r.mu.Lock()
	if r.done || r.running > 0 || r.lookups > 0 || len(r.heldV4) > 0 || r.next < len(r.addrs) {
		r.mu.Unlock()
		return
	}
	r.done = true
	r.stopTimerLocked()
	errs := r.errs
	if len(errs) == 0 {
		switch {
		case r.lookupErr[1] != nil:
			errs = []error{r.lookupErr[1]}
		case r.lookupErr[0] != nil:
			errs = []error{r.lookupErr[0]}
		default:
			errs = []error{fmt.Errorf("dns: HappyEyeballs: no addresses: %w", ErrNotFound)}
		}
	}
	r.mu.Unlock()
	if len(errs) == 1 {
		r.p.Reject(errs[0])
	} else {
		r.p.Reject(errors.Join(errs...))
	}
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
		r.timer = r.after(r.delay, r.launch)
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
	r.mu.Unlock()
	r.maybeFail()
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
	if r.resTimer != nil {
		r.resTimer.Stop()
		r.resTimer = nil
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
