package dns

import (
	"crypto/rand"
	"encoding/binary"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	"golang.org/x/net/dns/dnsmessage"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/logx"
	"github.com/goasync/goasync/internal/loop"
)

// newID returns a random 16-bit query id from crypto/rand.
func newID() uint16 {
	var b [2]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return binary.BigEndian.Uint16(b[:])
}

// queryOp asks one question, trying the servers in order (or rotated) for
// the configured number of rounds, with a TCP retry on truncation.
type queryOp struct {
	tr       *loopTransport
	name     string // for errors
	target   string // the question's name (lower case, no trailing dot)
	q        dnsmessage.Question
	servers  []netip.AddrPort
	first    int
	timeout  time.Duration
	useTCP   bool
	tries    int // attempts * len(servers)
	try      int
	sink     querySink  // told the outcome once (not after a cancel)
	l        *loop.Loop // the loop the query runs on, when known
	lastErr  error
	mu       sync.Mutex
	cur      *exchange // the exchange in progress
	canceled bool

	// The exchange in progress, for exchangeCheck and exchangeDone (loop
	// only, once the exchange started).
	msg     [64]byte // the query message, when it fits (one exchange at a time)
	xid     uint16
	xserver netip.AddrPort
	xtcp    bool
	xstart  time.Time
}

// querySink receives the outcome of a queryOp, once; a cancelled query
// tells it nothing.
type querySink interface{ queryDone(rep reply, err error) }

// query makes the question q for name against servers (the configured
// ones when override is not valid), for sink; the caller starts it with
// next and may stop it with cancel.
func (r *Resolver) query(name, target string, q dnsmessage.Question, override netip.AddrPort, l *loop.Loop, sink querySink) *queryOp {
	conf := r.conf.Load()
	op := &queryOp{
		tr:      r.tr,
		name:    name,
		target:  strings.ToLower(target), // no copy when it is lower case already
		q:       q,
		servers: conf.Servers,
		timeout: conf.Timeout,
		useTCP:  conf.UseTCP,
		l:       l,
		sink:    sink,
	}
	attempts := conf.Attempts
	if override.IsValid() {
		op.servers = []netip.AddrPort{override}
	} else if conf.Rotate && len(op.servers) > 1 {
		op.first = int(r.rotor.Add(1)-1) % len(op.servers)
	}
	op.tries = attempts * len(op.servers)
	return op
}

// cancel stops the query: the exchange in progress is aborted and the sink
// is told nothing.
func (op *queryOp) cancel(error) {
	op.mu.Lock()
	op.canceled = true
	x := op.cur
	op.mu.Unlock()
	if x != nil {
		x.l.Execute(x.abort)
	}
}

// next starts the next try, or fails the query when none is left.
func (op *queryOp) next() {
	if op.try >= op.tries {
		if op.lastErr == nil {
			op.lastErr = errServerFailure(op.name, "", "no servers")
		}
		op.sink.queryDone(reply{}, op.lastErr)
		return
	}
	server := op.servers[(op.first+op.try)%len(op.servers)]
	op.try++
	op.send(server, op.useTCP)
}

// send runs one exchange with server.
func (op *queryOp) send(server netip.AddrPort, tcp bool) {
	id := newID()
	msg, err := buildQuery(op.msg[:0], id, op.q, tcp)
	if err != nil {
		op.sink.queryDone(reply{}, errServerFailure(op.name, "", err.Error()))
		return
	}
	q := op.q
	var start time.Time
	if logx.Debug() {
		start = time.Now()
		logx.L().Debug("dns query", zap.String("name", op.name), zap.Stringer("type", q.Type),
			zap.Stringer("server", server), zap.Uint16("id", id), zap.Bool("tcp", tcp))
	}
	// The exchange runs on the loop the query runs on (known, or asked
	// of the thread), else on the runtime's first loop; it tells the
	// query directly (exchangeSink), with no future between them.
	l, onLoop := op.l, op.l != nil
	if !onLoop {
		l, onLoop = op.tr.home()
	}
	if checkLoops && onLoop && !l.OnLoop() && !l.Exited() {
		panic("dns: a query was made for loop " + strconv.Itoa(l.ID()) + " off its goroutine")
	}
	op.xid, op.xserver, op.xtcp, op.xstart = id, server, tcp, start
	x := &exchange{l: l, sink: op, query: msg, tcp: tcp, server: server, timeout: op.timeout}
	op.mu.Lock()
	if op.canceled {
		op.mu.Unlock()
		return
	}
	op.cur = x
	op.mu.Unlock()
	if onLoop {
		x.start()
	} else {
		l.Execute(x.start)
	}
}

// exchangeCheck checks a message for the exchange on the loop (exchangeSink).
func (op *queryOp) exchangeCheck(b []byte) (reply, error) {
	rep, err := checkReplyFor(b, op.xid, op.q, op.target)
	if err == errIgnore && logx.Debug() {
		logx.L().Debug("dns datagram ignored: not a reply to the query", zap.String("name", op.name),
			zap.Stringer("server", op.xserver), zap.Uint16("id", op.xid), zap.Int("bytes", len(b)))
	}
	return rep, err
}

// exchangeDone is the outcome of the exchange on the loop (exchangeSink).
func (op *queryOp) exchangeDone(rep reply, err error) {
	if logx.Debug() {
		fields := []zap.Field{zap.String("name", op.name), zap.Stringer("type", op.q.Type), zap.Stringer("server", op.xserver),
			zap.Uint16("id", op.xid), zap.Bool("tcp", op.xtcp), zap.Duration("duration", time.Since(op.xstart))}
		if err != nil {
			fields = append(fields, zap.Error(err))
		} else {
			fields = append(fields, zap.Stringer("rcode", rep.rcode), zap.Int("answers", len(rep.addrs)+len(rep.names)),
				zap.Bool("truncated", rep.kind == replyTruncated))
		}
		logx.L().Debug("dns reply", fields...)
	}
	op.done(op.xserver, op.xtcp, rep, err)
}

// done handles the outcome of one exchange.
func (op *queryOp) done(server netip.AddrPort, tcp bool, rep reply, err error) {
	op.mu.Lock()
	op.cur = nil
	canceled := op.canceled
	op.mu.Unlock()
	if canceled {
		return // the promise was settled by the cancellation
	}
	switch {
	case err == errMalformed:
		op.lastErr = errServerFailure(op.name, server.String(), "malformed reply")
	case err == errIgnore:
		op.lastErr = errServerFailure(op.name, server.String(), "reply does not match the query")
	case err != nil:
		if isTimeoutErr(err) {
			op.lastErr = errTimeout(op.name, server.String())
		} else {
			op.lastErr = errNet(op.name, server.String(), err)
		}
	case rep.kind == replyTruncated:
		if !tcp {
			op.send(server, true) // same server, over TCP; not a new try
			return
		}
		op.lastErr = errServerFailure(op.name, server.String(), "truncated reply over TCP")
	case rep.kind == replyServFail:
		op.lastErr = errServerFailure(op.name, server.String(), rep.rcode.String())
	default:
		op.sink.queryDone(rep, nil)
		return
	}
	op.next()
}

// flightKey identifies identical lookups that share one query.
type flightKey struct {
	cacheKey
	server netip.AddrPort // a per-lookup server; zero for the configured ones
}

// flight is one query in progress and the callers waiting for it.
type flight struct {
	key     flightKey
	l       *loop.Loop // the loop its queries run on, when known (else home)
	waiters []flightWaiter
	first   [1]flightWaiter // the waiters' first backing array
	done    bool
	mu      sync.Mutex // guards cur and stopped
	cur     *queryOp
	stopped bool
}

// resolve returns the answer of type qt for name: from the cache, from a
// query already in flight, or from a new query. It resolves with negative
// answers too (entry.negative set) and rejects only when no server gave an
// answer. Cancelling the future leaves the flight; the query stops when no
// caller waits for it any more.
func (r *Resolver) resolve(name string, qt dnsmessage.Type, server netip.AddrPort) *future.Future[*cacheEntry] {
	if e, ok := r.cachedEntry(name, qt, server); ok {
		return future.Resolved(e)
	}
	w := &promiseWaiter{p: future.New[*cacheEntry]()}
	fl := r.join(name, qt, server, w, nil)
	w.p.OnCancel(func(cause error) { r.leave(fl, w, cause) })
	return w.p.Future()
}

// flightWaiter is told the outcome of the flight it joined, once, unless
// it left first; l is the loop it is told on, when known (nil: ask).
type flightWaiter interface {
	flightDone(e *cacheEntry, err error, l *loop.Loop)
}

// promiseWaiter is resolve's waiter: a promise.
type promiseWaiter struct{ p *future.Promise[*cacheEntry] }

func (w *promiseWaiter) flightDone(e *cacheEntry, err error, _ *loop.Loop) {
	if err != nil {
		w.p.Reject(err)
	} else {
		w.p.Resolve(e)
	}
}

// cachedEntry is the cache's answer of type qt for name (none for a
// per-lookup server).
func (r *Resolver) cachedEntry(name string, qt dnsmessage.Type, server netip.AddrPort) (*cacheEntry, bool) {
	if server.IsValid() {
		return nil, false
	}
	return r.cache.get(cacheKey{name: name, qtype: qt})
}

// join adds w to the query in flight for (name, qt, server), or to a new
// one, which it starts; it returns the flight (for leave). l is the event
// loop the caller runs on, if it knows (a new flight's queries run there
// without asking the thread which loop it is).
func (r *Resolver) join(name string, qt dnsmessage.Type, server netip.AddrPort, w flightWaiter, l *loop.Loop) *flight {
	k := flightKey{cacheKey: cacheKey{name: name, qtype: qt}, server: server}
	r.mu.Lock()
	fl := r.flights[k]
	start := fl == nil
	if start {
		fl = &flight{key: k, l: l}
		fl.waiters = fl.first[:0]
		r.flights[k] = fl
	}
	fl.waiters = append(fl.waiters, w)
	r.mu.Unlock()
	if start {
		r.chase(fl, name, 0, ^uint32(0))
	}
	return fl
}

// leave removes a waiter that no longer waits and stops the flight when it
// was the last. Leaving twice, or after the flight landed, does nothing.
func (r *Resolver) leave(fl *flight, w flightWaiter, cause error) {
	r.mu.Lock()
	found := false
	for i, x := range fl.waiters {
		if x == w {
			fl.waiters = append(fl.waiters[:i], fl.waiters[i+1:]...)
			found = true
			break
		}
	}
	last := found && len(fl.waiters) == 0 && !fl.done
	if last {
		fl.done = true
		if r.flights[fl.key] == fl {
			delete(r.flights, fl.key)
		}
	}
	r.mu.Unlock()
	if !last {
		return
	}
	fl.mu.Lock()
	fl.stopped = true
	cur := fl.cur
	fl.mu.Unlock()
	if cur != nil {
		cur.cancel(cause)
	}
}

// chase queries target for the flight and follows CNAME chains across
// queries: hops counts the CNAMEs followed so far and ttl is the minimum TTL
// along the chain.
func (r *Resolver) chase(fl *flight, target string, hops int, ttl uint32) {
	q, err := question(target, fl.key.qtype)
	if err != nil {
		r.land(fl, nil, errServerFailure(fl.key.name, "", "bad CNAME target"))
		return
	}
	op := r.query(fl.key.name, target, q, fl.key.server, fl.l, &chaseStep{r: r, fl: fl, target: target, hops: hops, ttl: ttl})
	fl.mu.Lock()
	if fl.stopped {
		fl.mu.Unlock()
		return
	}
	fl.cur = op
	fl.mu.Unlock()
	op.next()
}

// chaseStep is one query of a flight's chain (querySink): target asked
// after hops CNAMEs, ttl the least TTL along the chain so far.
type chaseStep struct {
	r      *Resolver
	fl     *flight
	target string
	hops   int
	ttl    uint32
}

func (c *chaseStep) queryDone(rep reply, err error) {
	r, fl := c.r, c.fl
	fl.mu.Lock()
	fl.cur = nil
	stopped := fl.stopped
	fl.mu.Unlock()
	if stopped {
		return
	}
	if err != nil {
		r.land(fl, nil, err)
		return
	}
	hops, ttl := c.hops+rep.hops, c.ttl
	if rep.hasTTL {
		ttl = min(ttl, rep.ttl)
	}
	if rep.kind == replyFollow {
		if hops >= maxCNAMEHops || rep.target == c.target {
			r.land(fl, nil, errServerFailure(fl.key.name, "", "CNAME chain too long"))
			return
		}
		r.chase(fl, rep.target, hops, ttl)
		return
	}
	e := &cacheEntry{addrs: rep.addrs, names: rep.names}
	if rep.kind != replyAnswer {
		e.negative = rep.kind
	}
	if !fl.key.server.IsValid() {
		rep.ttl = ttl
		r.cache.put(fl.key.cacheKey, &rep)
	}
	r.land(fl, e, nil)
}

// land settles every waiter of the flight.
func (r *Resolver) land(fl *flight, e *cacheEntry, err error) {
	r.mu.Lock()
	if r.flights[fl.key] == fl {
		delete(r.flights, fl.key)
	}
	fl.done = true
	ws := fl.waiters
	fl.waiters = nil
	r.mu.Unlock()
	for _, w := range ws {
		w.flightDone(e, err, fl.l)
	}
}
