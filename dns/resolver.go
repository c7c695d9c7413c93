package dns

import (
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goasync/goasync"
	"github.com/goasync/goasync/internal/loop"
)

// Default file locations.
const (
	DefaultConfigFile = "/etc/resolv.conf"
	DefaultHostsFile  = "/etc/hosts"
)

// reloadInterval is how often the files are checked for changes (by their
// modification time and size), as Go's net package does.
const reloadInterval = 5 * time.Second

// A Resolver looks names up: hosts file first, then its name servers, with
// its own configuration, cache and in-flight query table. A Resolver is safe
// for concurrent use; it owns no goroutine and needs no Close. Build one with
// NewResolver; the package-level Lookup and LookupAddr use Default.
type Resolver struct {
	confPath  string
	hostsPath string
	fixed     *Config          // WithConfig: no file
	servers   []netip.AddrPort // WithServers
	timeout   time.Duration    // WithTimeout
	now       func() time.Time
	tr        *loopTransport
	cache     *cache

	conf      atomic.Pointer[Config]
	hosts     atomic.Pointer[hosts]
	nextCheck atomic.Int64 // unix nanos of the next file check
	reloadMu  sync.Mutex
	confStat  fileStamp
	hostsStat fileStamp

	rotor atomic.Uint32 // rotate: which server goes first

	mu      sync.Mutex
	flights map[flightKey]*flight
}

// ResolverOption configures a Resolver.
type ResolverOption struct{ apply func(*resolverSettings) }

type resolverSettings struct {
	confPath    string
	hostsPath   string
	fixed       *Config
	servers     []netip.AddrPort
	timeout     time.Duration
	cacheSize   int
	minTTL      time.Duration
	maxTTL      time.Duration
	maxNegative time.Duration
	now         func() time.Time
	tr          *loopTransport
}

// WithConfigFile reads the resolver configuration from path instead of
// /etc/resolv.conf. The file is checked for changes every few seconds.
func WithConfigFile(path string) ResolverOption {
	return ResolverOption{func(s *resolverSettings) { s.confPath = path }}
}

// WithConfig uses c instead of any resolv.conf file. A zero Timeout,
// Attempts or Servers takes glibc's default (5s, 2, the local server); Ndots
// is used as given (start from DefaultConfig for glibc's ndots 1).
func WithConfig(c Config) ResolverOption {
	return ResolverOption{func(s *resolverSettings) { s.fixed = c.clone() }}
}

// WithHostsFile reads the hosts table from path instead of /etc/hosts; an
// empty path turns the hosts table off. The file is checked for changes every
// few seconds.
func WithHostsFile(path string) ResolverOption {
	return ResolverOption{func(s *resolverSettings) { s.hostsPath = path }}
}

// WithServers replaces the configured name servers.
func WithServers(servers ...netip.AddrPort) ResolverOption {
	return ResolverOption{func(s *resolverSettings) { s.servers = append([]netip.AddrPort(nil), servers...) }}
}

// WithTimeout replaces the configured per-query timeout (resolv.conf only
// has whole seconds).
func WithTimeout(d time.Duration) ResolverOption {
	return ResolverOption{func(s *resolverSettings) { s.timeout = d }}
}

// WithCacheSize bounds the cache to n answers (default 10000); 0 turns the
// cache off.
func WithCacheSize(n int) ResolverOption {
	return ResolverOption{func(s *resolverSettings) { s.cacheSize = max(n, 0) }}
}

// WithTTLBounds clamps the lifetime of cached answers into [min, max]
// (default [0, 24h]). A record with TTL 0 is not cached unless min > 0.
func WithTTLBounds(min, max time.Duration) ResolverOption {
	return ResolverOption{func(s *resolverSettings) { s.minTTL, s.maxTTL = min, max }}
}

// WithNegativeTTL bounds how long a negative answer (NXDOMAIN, NODATA) is
// cached (default 1h). Negative answers live for the SOA minimum of the
// reply (RFC 2308) and are not cached when the reply has no SOA.
func WithNegativeTTL(max time.Duration) ResolverOption {
	return ResolverOption{func(s *resolverSettings) { s.maxNegative = max }}
}

// withClock injects the clock of the cache and the file checks (tests).
func withClock(now func() time.Time) ResolverOption {
	return ResolverOption{func(s *resolverSettings) { s.now = now }}
}

// WithRuntime runs the resolver's queries on r (goasync.NewRuntime)
// instead of the process-wide default runtime: their sockets and timeouts
// live on r's loops.
func WithRuntime(r *goasync.Runtime) ResolverOption {
	return ResolverOption{func(s *resolverSettings) {
		if lr := loop.Unwrap(r); lr != nil {
			s.tr = &loopTransport{rt: func() *loop.Runtime { return lr }}
		}
	}}
}

// withTransport injects the transport (tests).
func withTransport(t *loopTransport) ResolverOption {
	return ResolverOption{func(s *resolverSettings) { s.tr = t }}
}

// NewResolver returns a Resolver. Without options it reads /etc/resolv.conf
// and /etc/hosts, like Default.
func NewResolver(opts ...ResolverOption) *Resolver {
	s := resolverSettings{
		confPath:    DefaultConfigFile,
		hostsPath:   DefaultHostsFile,
		cacheSize:   defaultCacheSize,
		minTTL:      defaultMinTTL,
		maxTTL:      defaultMaxTTL,
		maxNegative: defaultMaxNegative,
		now:         time.Now,
	}
	for _, o := range opts {
		if o.apply != nil {
			o.apply(&s)
		}
	}
	r := &Resolver{
		confPath:  s.confPath,
		hostsPath: s.hostsPath,
		fixed:     s.fixed,
		servers:   s.servers,
		timeout:   s.timeout,
		now:       s.now,
		tr:        s.tr,
		cache:     newCache(s.cacheSize, s.minTTL, s.maxTTL, s.maxNegative, s.now),
		flights:   make(map[flightKey]*flight),
	}
	if r.tr == nil {
		r.tr = newRuntimeTransport()
	}
	r.reload(true)
	return r
}

var (
	defaultOnce     sync.Once
	defaultResolver *Resolver
)

// Default returns the process-wide resolver, built on first use from
// /etc/resolv.conf and /etc/hosts (re-read when they change).
func Default() *Resolver {
	defaultOnce.Do(func() { defaultResolver = NewResolver() })
	return defaultResolver
}

// Config returns a copy of the configuration the resolver uses now.
func (r *Resolver) Config() Config {
	r.maybeReload()
	return *r.conf.Load().clone()
}

// FlushCache empties the resolver's cache.
func (r *Resolver) FlushCache() { r.cache.flush() }

// fileStamp identifies a version of a file.
type fileStamp struct {
	mod  time.Time
	size int64
	ok   bool
}

func stamp(path string) fileStamp {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}
	}
	return fileStamp{mod: fi.ModTime(), size: fi.Size(), ok: true}
}

// maybeReload re-reads the files when reloadInterval has passed since the
// last check and they changed. The common path is one clock read and one
// atomic load.
func (r *Resolver) maybeReload() { r.maybeReloadAt(r.now().UnixNano()) }

// maybeReloadAt is maybeReload at the time now (unix nanoseconds).
func (r *Resolver) maybeReloadAt(now int64) {
	if now < r.nextCheck.Load() {
		return
	}
	r.reload(false)
}

func (r *Resolver) reload(force bool) {
	r.reloadMu.Lock()
	defer r.reloadMu.Unlock()
	now := r.now().UnixNano()
	if !force && now < r.nextCheck.Load() {
		return
	}
	r.nextCheck.Store(now + int64(reloadInterval))

	if r.fixed == nil {
		if st := stamp(r.confPath); force || st != r.confStat {
			r.confStat = st
			c, _ := ReadConfig(r.confPath) // a missing or unreadable file gives the defaults
			r.conf.Store(r.finishConfig(c))
		}
	} else if force {
		r.conf.Store(r.finishConfig(r.fixed.clone()))
	}

	if r.hostsPath == "" {
		if force {
			r.hosts.Store(&hosts{})
		}
		return
	}
	if st := stamp(r.hostsPath); force || st != r.hostsStat {
		r.hostsStat = st
		h, _ := readHosts(r.hostsPath) // unreadable: an empty table
		r.hosts.Store(h)
	}
}

// finishConfig applies the options and the defaults to c.
func (r *Resolver) finishConfig(c *Config) *Config {
	if len(r.servers) > 0 {
		c.Servers = append([]netip.AddrPort(nil), r.servers...)
	}
	if r.timeout > 0 {
		c.Timeout = r.timeout
	}
	if len(c.Servers) == 0 {
		c.Servers = defaultServers()
	}
	c.Ndots = min(max(c.Ndots, 0), maxNdots)
	if c.Timeout <= 0 {
		c.Timeout = defaultTimeout
	}
	if c.Attempts <= 0 {
		c.Attempts = defaultAttempts
	}
	return c
}
