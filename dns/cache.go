package dns

import (
	"net/netip"
	"sync"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// Cache defaults.
const (
	defaultCacheSize   = 10000
	defaultMinTTL      = 0
	defaultMaxTTL      = 24 * time.Hour
	defaultMaxNegative = time.Hour // RFC 2308 section 5 suggests one to three hours at most
)

type cacheKey struct {
	name  string // lower case, no trailing dot
	qtype dnsmessage.Type
}

// cacheEntry is one answer: the records of a type for a name (after CNAMEs),
// or a negative answer.
type cacheEntry struct {
	addrs    []netip.Addr
	names    []string
	negative replyKind // replyNXDomain or replyNoData when the answer is negative
	expires  int64     // unix nanoseconds of the injected clock
}

// cache is a size-bounded TTL cache of answers. All methods are safe for
// concurrent use.
type cache struct {
	mu          sync.RWMutex
	m           map[cacheKey]*cacheEntry
	size        int
	minTTL      time.Duration
	maxTTL      time.Duration
	maxNegative time.Duration
	now         func() time.Time
}

func newCache(size int, minTTL, maxTTL, maxNeg time.Duration, now func() time.Time) *cache {
	return &cache{
		m:           make(map[cacheKey]*cacheEntry),
		size:        size,
		minTTL:      minTTL,
		maxTTL:      maxTTL,
		maxNegative: maxNeg,
		now:         now,
	}
}

// get returns the live entry for k. The entry is shared: callers must not
// modify its slices.
func (c *cache) get(k cacheKey) (*cacheEntry, bool) {
	if c == nil || c.size <= 0 {
		return nil, false
	}
	return c.getAt(k, c.now().UnixNano())
}

// getAt is get at the time now (unix nanoseconds of the cache's clock).
func (c *cache) getAt(k cacheKey, now int64) (*cacheEntry, bool) {
	if c == nil || c.size <= 0 {
		return nil, false
	}
	c.mu.RLock()
	e, ok := c.m[k]
	c.mu.RUnlock()
	if !ok || e.expires <= now {
		return nil, false
	}
	return e, true
}

// put stores the reply r under k with its TTL clamped into [minTTL, maxTTL]
// (negative answers: at most maxNegative). Replies that must not be cached (a
// negative answer without SOA, a zero TTL after clamping) are dropped.
func (c *cache) put(k cacheKey, r *reply) {
	if c == nil || c.size <= 0 || !r.hasTTL {
		return
	}
	ttl := time.Duration(r.ttl) * time.Second
	e := &cacheEntry{}
	switch r.kind {
	case replyAnswer:
		ttl = min(max(ttl, c.minTTL), c.maxTTL)
		e.addrs, e.names = r.addrs, r.names
	case replyNXDomain, replyNoData:
		ttl = min(max(ttl, c.minTTL), c.maxNegative)
		e.negative = r.kind
	default:
		return
	}
	if ttl <= 0 {
		return
	}
	now := c.now().UnixNano()
	e.expires = now + int64(ttl)
	c.mu.Lock()
	if _, exists := c.m[k]; !exists && len(c.m) >= c.size {
		c.evictLocked(now)
	}
	c.m[k] = e
	c.mu.Unlock()
}

// evictLocked makes room for one entry in O(1), the way Redis does: it
// samples a few entries (Go's map order is randomised), drops the expired ones
// and, if none was, the one that expires first.
func (c *cache) evictLocked(now int64) {
	const samples = 16
	var (
		victim  cacheKey
		soonest int64
		found   bool
		dropped bool
		n       int
	)
	for k, e := range c.m {
		if e.expires <= now {
			delete(c.m, k)
			dropped = true
		} else if !found || e.expires < soonest {
			victim, soonest, found = k, e.expires, true
		}
		if n++; n >= samples {
			break
		}
	}
	if !dropped && found {
		delete(c.m, victim)
	}
}

// len returns how many entries (live or expired) the cache holds.
func (c *cache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}

// flush empties the cache.
func (c *cache) flush() {
	c.mu.Lock()
	clear(c.m)
	c.mu.Unlock()
}
