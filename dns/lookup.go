package dns

import (
	"context"
	"net/netip"
	"sync"
	"sync/atomic"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/loop"
	"github.com/goasync/goasync/internal/loopmark"
)

// Family selects the address family of a lookup.
type Family uint8

// Address families.
const (
	// FamilyAny asks for IPv6 and IPv4 addresses (AAAA and A queries in
	// parallel). It is the default.
	FamilyAny Family = iota
	// FamilyV4 asks for IPv4 addresses only (A).
	FamilyV4
	// FamilyV6 asks for IPv6 addresses only (AAAA).
	FamilyV6
)

// String returns "any", "v4" or "v6".
func (f Family) String() string {
	switch f {
	case FamilyV4:
		return "v4"
	case FamilyV6:
		return "v6"
	}
	return "any"
}

func (f Family) matches(a netip.Addr) bool {
	switch f {
	case FamilyV4:
		return a.Is4() || a.Is4In6()
	case FamilyV6:
		return a.Is6() && !a.Is4In6()
	}
	return true
}

var (
	qtypesAny = []dnsmessage.Type{dnsmessage.TypeAAAA, dnsmessage.TypeA}
	qtypesV4  = []dnsmessage.Type{dnsmessage.TypeA}
	qtypesV6  = []dnsmessage.Type{dnsmessage.TypeAAAA}
)

func (f Family) qtypes() []dnsmessage.Type {
	switch f {
	case FamilyV4:
		return qtypesV4
	case FamilyV6:
		return qtypesV6
	}
	return qtypesAny
}

// Option configures one Lookup or LookupAddr call.
type Option struct {
	// apply works on a copy and returns it, so options never make the
	// caller's settings escape to the heap (a cached lookup stays at two
	// allocations).
	apply func(lookupOptions) lookupOptions
}

type lookupOptions struct {
	family   Family
	server   netip.AddrPort
	resolver *Resolver
	exec     future.Executor
	execSet  bool
}

// WithFamily restricts a lookup to one address family (default FamilyAny).
func WithFamily(f Family) Option {
	return Option{func(o lookupOptions) lookupOptions { o.family = f; return o }}
}

// WithServer sends the lookup's queries to server only, instead of the
// resolver's configured servers. Such a lookup asks the server every time:
// it skips the hosts file and the cache, and its answers are not cached. The
// resolver's timeout and attempts still apply.
func WithServer(server netip.AddrPort) Option {
	return Option{func(o lookupOptions) lookupOptions { o.server = server; return o }}
}

// On delivers the lookup's outcome through e instead of the default: the
// event loop the caller runs on, if any, else the goroutine that settles the
// query (a loop of the runtime). On(future.Inline) always takes the latter
// and skips finding out whether the caller runs on a loop, which costs a
// stack trace per uncached lookup; callers that do not touch loop-bound state
// in their continuations (tcp.Connect, for one) can use it. This is the same
// rule, and the same option name, as the timer package's.
func On(e future.Executor) Option {
	return Option{func(o lookupOptions) lookupOptions { o.exec, o.execSet = e, true; return o }}
}

// WithResolver makes the package-level Lookup and LookupAddr use r instead
// of Default. The methods of a Resolver ignore it.
func WithResolver(r *Resolver) Option {
	return Option{func(o lookupOptions) lookupOptions { o.resolver = r; return o }}
}

// Lookup resolves host to its IP addresses with the Default resolver (or the
// one given by WithResolver). See Resolver.Lookup.
func Lookup(ctx context.Context, host string, opts ...Option) *future.Future[[]netip.Addr] {
	var o lookupOptions
	for _, opt := range opts {
		if opt.apply != nil {
			o = opt.apply(o)
		}
	}
	r := o.resolver
	if r == nil {
		r = Default()
	}
	return r.lookupIP(ctx, host, &o)
}

// LookupAddr returns the host names of ip (a reverse, PTR lookup) with the
// Default resolver (or the one given by WithResolver). See
// Resolver.LookupAddr.
func LookupAddr(ctx context.Context, ip netip.Addr, opts ...Option) *future.Future[[]string] {
	var o lookupOptions
	for _, opt := range opts {
		if opt.apply != nil {
			o = opt.apply(o)
		}
	}
	r := o.resolver
	if r == nil {
		r = Default()
	}
	return r.lookupAddr(ctx, ip, &o)
}

// Lookup resolves host to its IP addresses.
//
// An IP literal resolves at once, without a query. Otherwise the hosts file
// is consulted first: a name it lists is answered from it alone, for every
// family (no address of the family asked for is ErrNotFound), as Go's
// resolver does. localhost and the names under it (dev.localhost) are never
// sent to DNS (RFC 6761 section 6.3): without a hosts entry they are the
// loopback addresses ::1 and 127.0.0.1. Other names go to the cache, then the
// name servers, with the search list applied as resolv.conf's ndots says. For FamilyAny the A and AAAA
// queries run in parallel and IPv6 addresses come first in the result, then
// IPv4, each in the order the server gave. Identical lookups in flight at the
// same time share one query.
//
// The future rejects with a *net.DNSError (see the package's error
// convention: errors.Is(err, ErrNotFound), errors.Is(err, future.ErrTimeout)),
// or with context.Cause(ctx) when ctx ends first; ending ctx also stops the
// queries when no other lookup waits for them. When Lookup is called on an
// event loop, the future settles on that loop.
func (r *Resolver) Lookup(ctx context.Context, host string, opts ...Option) *future.Future[[]netip.Addr] {
	var o lookupOptions
	for _, opt := range opts {
		if opt.apply != nil {
			o = opt.apply(o)
		}
	}
	return r.lookupIP(ctx, host, &o)
}

// LookupAddr returns the names of ip from the hosts file or a PTR query.
// Names are absolute: they end with a dot, as net.LookupAddr's do. Errors
// follow Lookup.
func (r *Resolver) LookupAddr(ctx context.Context, ip netip.Addr, opts ...Option) *future.Future[[]string] {
	var o lookupOptions
	for _, opt := range opts {
		if opt.apply != nil {
			o = opt.apply(o)
		}
	}
	return r.lookupAddr(ctx, ip, &o)
}

func (r *Resolver) lookupIP(ctx context.Context, host string, o *lookupOptions) *future.Future[[]netip.Addr] {
	if ctx != nil && ctx.Err() != nil {
		return future.Rejected[[]netip.Addr](context.Cause(ctx))
	}
	if ip, ok := parseIPLiteral(host); ok {
		if !o.family.matches(ip) {
			return future.Rejected[[]netip.Addr](errNotFound(host, ""))
		}
		return future.Resolved([]netip.Addr{ip})
	}
	name, abs, ok := normalize(host)
	if !ok {
		return future.Rejected[[]netip.Addr](errInvalidName(host))
	}
	now := r.now().UnixNano()
	r.maybeReloadAt(now)
	conf := r.conf.Load()
	if !o.server.IsValid() {
		if addrs, listed := r.hosts.Load().lookup(name, o.family); listed {
			if len(addrs) == 0 {
				return future.Rejected[[]netip.Addr](errNotFound(host, ""))
			}
			return future.Resolved(addrs)
		}
		if isLocalhost(name) {
			return future.Resolved(loopback(o.family))
		}
		if first, ok := firstCandidate(name, abs, conf.Search, conf.Ndots); ok {
			if addrs, ok := r.cachedAddrs(first, o.family, now); ok {
				return future.Resolved(addrs)
			}
		}
	}
	op := &lookupOp{
		r:      r,
		host:   host,
		fam:    o.family,
		server: o.server,
		cands:  candidates(name, abs, conf.Search, conf.Ndots),
		p:      future.New[[]netip.Addr](),
	}
	op.p.OnCancel(op.cancel)
	f := op.p.Future()
	if future.Tracing() {
		// A step of the caller's pipeline (ctx), or a root of its own.
		f = future.Trace(ctx, f, "dns.Lookup "+host+" "+o.family.String())
	}
	// Which loop, if any, the caller runs on: asked once (a gettid system
	// call) for both the hand-off and the delivery.
	cur, onLoop := loopmark.Current()
	op.start(cur, onLoop)
	return deliverFrom(ctx, f, o, cur, onLoop)
}

// deliver binds f to ctx and moves its completion onto the executor of On
// or, by default, onto the caller's event loop when it runs on one.
func deliver[T any](ctx context.Context, f *future.Future[T], o *lookupOptions) *future.Future[T] {
	var cur loopmark.Executor
	onLoop := false
	if !o.execSet {
		cur, onLoop = loopmark.Current()
	}
	return deliverFrom(ctx, f, o, cur, onLoop)
}

// deliverFrom is deliver for a caller already known to run on the loop
// cur (onLoop) or on none.
func deliverFrom[T any](ctx context.Context, f *future.Future[T], o *lookupOptions, cur loopmark.Executor, onLoop bool) *future.Future[T] {
	f = future.WithContext(ctx, f)
	if o.execSet {
		if o.exec != nil && o.exec != future.Inline {
			f = f.Via(o.exec)
		}
		return f
	}
	if onLoop {
		f = f.Via(cur)
	}
	return f
}

// cachedAddrs answers from the cache alone when it holds a positive answer
// for every type the family needs.
func (r *Resolver) cachedAddrs(name string, fam Family, now int64) ([]netip.Addr, bool) {
	switch fam {
	case FamilyV4, FamilyV6:
		qt := dnsmessage.TypeA
		if fam == FamilyV6 {
			qt = dnsmessage.TypeAAAA
		}
		e, ok := r.cache.getAt(cacheKey{name: name, qtype: qt}, now)
		if !ok || len(e.addrs) == 0 {
			return nil, false
		}
		return append([]netip.Addr(nil), e.addrs...), true
	}
	e6, ok6 := r.cache.getAt(cacheKey{name: name, qtype: dnsmessage.TypeAAAA}, now)
	if !ok6 {
		return nil, false
	}
	e4, ok4 := r.cache.getAt(cacheKey{name: name, qtype: dnsmessage.TypeA}, now)
	if !ok4 || len(e6.addrs)+len(e4.addrs) == 0 {
		return nil, false
	}
	out := make([]netip.Addr, 0, len(e6.addrs)+len(e4.addrs))
	return append(append(out, e6.addrs...), e4.addrs...), true
}

// lookupOp walks the search-list candidates of one Lookup.
type lookupOp struct {
	r        *Resolver
	host     string
	fam      Family
	server   netip.AddrPort
	cands    []string
	l        *loop.Loop // the loop the next step runs on
	i        int
	p        *future.Promise[[]netip.Addr]
	firstErr error

	mu       sync.Mutex
	cur      *candidate // the candidate being resolved
	canceled bool
}

// candidate is the resolution of one search-list candidate: a query per
// record type of the family (A, AAAA or both), each a flight waiter.
type candidate struct {
	op   *lookupOp
	n    int // queries: 1 or 2
	qs   [2]candQuery
	left atomic.Int32 // queries not answered yet
}

// candQuery is one query of a candidate (flightWaiter).
type candQuery struct {
	c   *candidate
	fl  *flight // nil when answered from the cache
	res future.Result[*cacheEntry]
}

func (q *candQuery) flightDone(e *cacheEntry, err error, l *loop.Loop) {
	q.res = future.Result[*cacheEntry]{Value: e, Err: err}
	if q.c.left.Add(-1) == 0 {
		q.c.op.l = l // where the next step runs (the last answer's loop)
		q.c.op.candidateDone(q.c)
	}
}

// cancel takes the current candidate's queries out of their flights (a
// flight whose last waiter leaves stops its query); a query joined after
// this is taken out by step.
func (op *lookupOp) cancel(cause error) {
	op.mu.Lock()
	op.canceled = true
	c := op.cur
	op.cur = nil
	var fls [2]*flight // candQuery.fl is guarded by op.mu
	if c != nil {
		for i := 0; i < c.n; i++ {
			fls[i] = c.qs[i].fl
		}
	}
	op.mu.Unlock()
	for i, fl := range fls {
		if fl != nil {
			op.r.leave(fl, &c.qs[i], cause)
		}
	}
}

// start resolves the first candidate. A caller outside the event loops
// hands that to the loop its queries run on (see loopTransport.home and
// handoff): flights, query messages and sockets are then made there, not
// on the caller's goroutine. That loop's thread holds a scheduler slot (P)
// whether it waits or works, while the callers' goroutines share the
// others: work moved onto it balances the two (docs/benchmarks/core.md,
// "DNS, uncached").
func (op *lookupOp) start(cur loopmark.Executor, curOK bool) {
	l, onLoop := op.r.tr.homeOf(cur, curOK)
	op.l = l // the steps run there
	if !onLoop {
		op.r.tr.in.run(l, op.step)
		return
	}
	op.step()
}

// step resolves the next candidate name.
func (op *lookupOp) step() {
	if op.i >= len(op.cands) {
		err := op.firstErr
		if err == nil {
			err = errNotFound(op.host, "")
		}
		op.p.Reject(withName(err, op.host))
		return
	}
	name := op.cands[op.i]
	op.i++
	qts := op.fam.qtypes()
	c := &candidate{op: op, n: len(qts)}
	c.left.Store(int32(len(qts)))
	op.mu.Lock()
	if op.canceled {
		op.mu.Unlock()
		return
	}
	op.cur = c
	op.mu.Unlock()
	// Cache answers are counted after every flight is joined: an answer
	// may come at once, within join, and the last one moves on to the
	// next candidate.
	var hits [2]*cacheEntry
	for i, qt := range qts {
		q := &c.qs[i]
		q.c = c
		if e, ok := op.r.cachedEntry(name, qt, op.server); ok {
			hits[i] = e
			continue
		}
		fl := op.r.join(name, qt, op.server, q, op.l)
		op.mu.Lock()
		q.fl = fl
		canceled := op.canceled
		op.mu.Unlock()
		if canceled { // cancel did not see this flight: leave it here
			op.r.leave(fl, q, nil)
		}
	}
	for i := range qts {
		if hits[i] != nil {
			c.qs[i].flightDone(hits[i], nil, op.l)
		}
	}
}

// candidateDone combines the answers for one candidate: any address wins;
// otherwise the next candidate is tried, remembering the first error that
// was not a negative answer.
func (op *lookupOp) candidateDone(c *candidate) {
	op.mu.Lock()
	if op.cur == c {
		op.cur = nil
	}
	canceled := op.canceled
	op.mu.Unlock()
	if canceled {
		return
	}
	var results [2]future.Result[*cacheEntry]
	for i := 0; i < c.n; i++ {
		results[i] = c.qs[i].res
	}
	n := 0
	for _, res := range results[:c.n] {
		if res.Err == nil {
			n += len(res.Value.addrs)
		}
	}
	if n > 0 {
		out := make([]netip.Addr, 0, n)
		for _, res := range results[:c.n] {
			if res.Err == nil {
				out = append(out, res.Value.addrs...)
			}
		}
		op.p.Resolve(out)
		return
	}
	for _, res := range results[:c.n] {
		if res.Err != nil && op.firstErr == nil {
			op.firstErr = res.Err
		}
	}
	op.step()
}

func (r *Resolver) lookupAddr(ctx context.Context, ip netip.Addr, o *lookupOptions) *future.Future[[]string] {
	if ctx != nil && ctx.Err() != nil {
		return future.Rejected[[]string](context.Cause(ctx))
	}
	if !ip.IsValid() {
		return future.Rejected[[]string](errInvalidName(ip.String()))
	}
	r.maybeReload()
	if !o.server.IsValid() {
		if names := r.hosts.Load().lookupAddr(ip); len(names) > 0 {
			for i, n := range names {
				names[i] = n + "."
			}
			return future.Resolved(names)
		}
	}
	host := ip.String()
	f := future.Then(r.resolve(reverseName(ip), dnsmessage.TypePTR, o.server), func(e *cacheEntry) ([]string, error) {
		if len(e.names) == 0 {
			return nil, errNotFound(host, "")
		}
		out := make([]string, len(e.names))
		for i, n := range e.names {
			out[i] = n + "."
		}
		return out, nil
	})
	f = future.Handle(f, func(v []string, err error) ([]string, error) {
		if err != nil {
			return nil, withName(err, host)
		}
		return v, nil
	})
	return deliver(ctx, f, o)
}
