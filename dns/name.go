package dns

import (
	"net/netip"
	"strings"
)

const (
	maxNameLen  = 253 // presentation length of a name without its trailing dot
	maxLabelLen = 63
)

// validName reports whether s (lower- or upper-case, without trailing dot) is
// a syntactically valid DNS name: 1..253 bytes, labels of 1..63 bytes made of
// letters, digits, '-' and '_' (underscore appears in real names such as SRV
// owners). It is deliberately as permissive as Go's net package.
func validName(s string) bool {
	if len(s) == 0 || len(s) > maxNameLen {
		return false
	}
	label := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if label == 0 {
				return false
			}
			label = 0
			continue
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return false
		}
		label++
		if label > maxLabelLen {
			return false
		}
	}
	return true
}

// lowerName returns s in lower case, allocating only when s has upper-case
// letters.
func lowerName(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

// normalize turns a host name as a user wrote it into the form used for the
// cache and the hosts file: lower case, no trailing dot. abs reports whether
// the name was absolute (ended with a dot), which turns the search list off.
func normalize(host string) (name string, abs bool, ok bool) {
	if strings.HasSuffix(host, ".") {
		host = host[:len(host)-1]
		abs = true
	}
	if !validName(host) {
		return "", abs, false
	}
	return lowerName(host), abs, true
}

// isLocalhost reports whether name (normalized: lower case, no trailing
// dot) is localhost or a name under it, which RFC 6761 section 6.3 reserves
// for the loopback interface and tells resolvers not to send to DNS.
func isLocalhost(name string) bool {
	return name == "localhost" || strings.HasSuffix(name, ".localhost")
}

// loopback returns the loopback addresses of fam, IPv6 first, as the answer
// for a localhost name that the hosts file does not list.
func loopback(fam Family) []netip.Addr {
	switch fam {
	case FamilyV4:
		return []netip.Addr{netip.AddrFrom4([4]byte{127, 0, 0, 1})}
	case FamilyV6:
		return []netip.Addr{netip.IPv6Loopback()}
	}
	return []netip.Addr{netip.IPv6Loopback(), netip.AddrFrom4([4]byte{127, 0, 0, 1})}
}

// candidates lists the names to query for name under the search list rules of
// resolv.conf(5): an absolute name is tried alone; a name with at least ndots
// dots is tried as it is and then with each search domain; a name with fewer
// dots is tried with each search domain first and as it is last. Names that
// would be too long are left out.
func candidates(name string, abs bool, search []string, ndots int) []string {
	if abs || len(search) == 0 {
		return []string{name}
	}
	out := make([]string, 0, len(search)+1)
	asIs := strings.Count(name, ".") >= ndots
	if asIs {
		out = append(out, name)
	}
	for _, d := range search {
		if len(name)+1+len(d) <= maxNameLen {
			out = append(out, name+"."+d)
		}
	}
	if !asIs {
		out = append(out, name)
	}
	return out
}

// firstCandidate is the first name candidates would return, computed without
// allocating when it is name itself. It lets a cached lookup skip building
// the whole list.
func firstCandidate(name string, abs bool, search []string, ndots int) (string, bool) {
	if abs || len(search) == 0 || strings.Count(name, ".") >= ndots {
		return name, true
	}
	return "", false
}

// reverseName returns the PTR query name of ip, without the trailing dot:
// "4.3.2.1.in-addr.arpa" for 1.2.3.4 and the nibble form under ip6.arpa for
// IPv6.
func reverseName(ip netip.Addr) string {
	ip = ip.Unmap()
	const hexDigits = "0123456789abcdef"
	if ip.Is4() {
		b := ip.As4()
		buf := make([]byte, 0, len("255.255.255.255.in-addr.arpa"))
		for i := 3; i >= 0; i-- {
			buf = appendUint8(buf, b[i])
			buf = append(buf, '.')
		}
		return string(append(buf, "in-addr.arpa"...))
	}
	b := ip.As16()
	buf := make([]byte, 0, 64+len("ip6.arpa"))
	for i := 15; i >= 0; i-- {
		buf = append(buf, hexDigits[b[i]&0xf], '.', hexDigits[b[i]>>4], '.')
	}
	return string(append(buf, "ip6.arpa"...))
}

func appendUint8(b []byte, v uint8) []byte {
	if v >= 100 {
		b = append(b, '0'+v/100)
	}
	if v >= 10 {
		b = append(b, '0'+v/10%10)
	}
	return append(b, '0'+v%10)
}

// parseIPLiteral parses host as an IP address when it looks like one. The
// quick character check keeps names (the common case) from paying for a
// failed parse, which allocates its error.
func parseIPLiteral(host string) (netip.Addr, bool) {
	if host == "" {
		return netip.Addr{}, false
	}
	colon := strings.IndexByte(host, ':') >= 0
	if !colon {
		for i := 0; i < len(host); i++ {
			if c := host[i]; (c < '0' || c > '9') && c != '.' {
				return netip.Addr{}, false
			}
		}
	}
	if len(host) > 2 && host[0] == '[' && host[len(host)-1] == ']' {
		host = host[1 : len(host)-1]
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a, true
}
