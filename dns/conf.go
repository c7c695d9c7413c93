package dns

import (
	"bufio"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"
)

// Defaults of resolv.conf(5) as glibc applies them.
const (
	defaultNdots    = 1
	defaultTimeout  = 5 * time.Second
	defaultAttempts = 2
	maxNameservers  = 3  // glibc MAXNS: later nameserver lines are ignored
	maxNdots        = 15 // glibc caps ndots at 15
	maxTimeout      = 30 * time.Second
	maxAttempts     = 5
)

// Config is a resolver configuration: what resolv.conf(5) says, after glibc's
// defaults and limits are applied. The zero Config is not useful; get one from
// ReadConfig or DefaultConfig and change the fields you need.
type Config struct {
	// Servers are the name servers, asked in order (or rotated, see Rotate).
	// A server without a port in resolv.conf gets port 53. When the file
	// names none, the local server on 127.0.0.1:53 and [::1]:53 is used, as
	// glibc does.
	Servers []netip.AddrPort
	// Search is the search list: the domains appended to names with fewer
	// than Ndots dots (the "search" or "domain" line; the last one wins).
	Search []string
	// Ndots is how many dots a name needs to be tried as it is before the
	// search list (options ndots:n). Default 1, at most 15.
	Ndots int
	// Timeout is how long one query waits for a reply from one server
	// (options timeout:n, whole seconds in the file). Default 5s, at most 30s.
	Timeout time.Duration
	// Attempts is how many rounds over all servers a query makes before it
	// gives up (options attempts:n). Default 2, at most 5.
	Attempts int
	// Rotate spreads queries over the servers round-robin instead of always
	// asking the first one first (options rotate).
	Rotate bool
	// UseTCP sends every query over TCP (options use-vc / usevc).
	UseTCP bool
}

// DefaultConfig returns the configuration glibc uses when resolv.conf is
// missing or empty: the local server, no search list, ndots 1, timeout 5s,
// attempts 2.
func DefaultConfig() *Config {
	return &Config{
		Servers:  defaultServers(),
		Ndots:    defaultNdots,
		Timeout:  defaultTimeout,
		Attempts: defaultAttempts,
	}
}

func defaultServers() []netip.AddrPort {
	return []netip.AddrPort{
		netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), 53),
		netip.AddrPortFrom(netip.IPv6Loopback(), 53),
	}
}

// ReadConfig reads a resolv.conf(5) file. A file that does not exist gives
// DefaultConfig and no error, as it does for glibc; other read errors are
// returned together with the defaults. Lines the parser does not understand
// are skipped, as glibc skips them.
func ReadConfig(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			return DefaultConfig(), nil
		}
		return DefaultConfig(), err
	}
	defer f.Close()
	return ParseConfig(f)
}

// ParseConfig parses resolv.conf(5) text. It never fails on bad content (bad
// lines are skipped); the error is only a read error of r.
func ParseConfig(r io.Reader) (*Config, error) {
	c := &Config{
		Ndots:    defaultNdots,
		Timeout:  defaultTimeout,
		Attempts: defaultAttempts,
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64*1024)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexAny(line, "#;"); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "nameserver":
			if len(f) < 2 || len(c.Servers) >= maxNameservers {
				continue
			}
			if ap, ok := parseServer(f[1]); ok {
				c.Servers = append(c.Servers, ap)
			}
		case "domain":
			if len(f) >= 2 {
				if d, ok := cleanDomain(f[1]); ok {
					c.Search = []string{d}
				}
			}
		case "search":
			c.Search = c.Search[:0:0]
			for _, s := range f[1:] {
				if d, ok := cleanDomain(s); ok {
					c.Search = append(c.Search, d)
				}
			}
		case "options":
			for _, o := range f[1:] {
				c.applyOption(o)
			}
		}
	}
	if len(c.Servers) == 0 {
		c.Servers = defaultServers()
	}
	if len(c.Search) == 0 {
		c.Search = nil
	}
	return c, sc.Err()
}

func (c *Config) applyOption(o string) {
	name, val, hasVal := strings.Cut(o, ":")
	n := 0
	if hasVal {
		v, err := strconv.Atoi(val)
		if err != nil || v < 0 {
			return
		}
		n = v
	}
	switch name {
	case "ndots":
		if hasVal {
			c.Ndots = min(n, maxNdots)
		}
	case "timeout":
		if hasVal {
			c.Timeout = min(time.Duration(max(n, 1))*time.Second, maxTimeout)
		}
	case "attempts":
		if hasVal {
			c.Attempts = min(max(n, 1), maxAttempts)
		}
	case "rotate":
		c.Rotate = true
	case "use-vc", "usevc":
		c.UseTCP = true
	}
}

// parseServer parses a nameserver value: an IP address, optionally with an
// IPv6 zone. resolv.conf has no port syntax; port 53 is implied.
func parseServer(s string) (netip.AddrPort, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(a.Unmap(), 53), true
}

// cleanDomain lower-cases a search domain and strips its trailing dot. The
// root domain (".") and invalid names are rejected.
func cleanDomain(s string) (string, bool) {
	s = strings.TrimSuffix(strings.ToLower(s), ".")
	if s == "" || !validName(s) {
		return "", false
	}
	return s, true
}

// clone returns a deep copy of c.
func (c *Config) clone() *Config {
	cc := *c
	cc.Servers = append([]netip.AddrPort(nil), c.Servers...)
	cc.Search = append([]string(nil), c.Search...)
	return &cc
}
