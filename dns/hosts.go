package dns

import (
	"bufio"
	"io"
	"net/netip"
	"os"
	"strings"
)

// hosts is a parsed hosts(5) file.
type hosts struct {
	byName map[string][]netip.Addr // lower-case name without trailing dot -> addresses in file order
	byAddr map[netip.Addr][]string // address -> names in file order (canonical name first)
}

// readHosts reads and parses a hosts file. A missing file is an empty table.
func readHosts(path string) (*hosts, error) {
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			return &hosts{}, nil
		}
		return &hosts{}, err
	}
	defer f.Close()
	return parseHosts(f)
}

// parseHosts parses hosts(5) text: an address, then a canonical name and
// aliases, "#" starting a comment. Bad addresses and bad names are skipped.
func parseHosts(r io.Reader) (*hosts, error) {
	h := &hosts{byName: map[string][]netip.Addr{}, byAddr: map[netip.Addr][]string{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64*1024)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		addr, err := netip.ParseAddr(f[0])
		if err != nil {
			continue
		}
		addr = addr.Unmap()
		for _, n := range f[1:] {
			name, _, ok := normalize(n)
			if !ok {
				continue
			}
			if !containsAddr(h.byName[name], addr) {
				h.byName[name] = append(h.byName[name], addr)
			}
			if !containsString(h.byAddr[addr.WithZone("")], name) {
				h.byAddr[addr.WithZone("")] = append(h.byAddr[addr.WithZone("")], name)
			}
		}
	}
	return h, sc.Err()
}

// lookup returns the addresses of name of the given family, in file order.
// listed reports whether the file names name at all, with any family: such a
// name is answered from the file alone (Go's resolver does the same), so a
// listed name with no address of fam is "not found", not a question for DNS.
func (h *hosts) lookup(name string, fam Family) (addrs []netip.Addr, listed bool) {
	if h == nil {
		return nil, false
	}
	all := h.byName[name]
	if len(all) == 0 {
		return nil, false
	}
	var out []netip.Addr
	for _, a := range all {
		if fam.matches(a) {
			out = append(out, a)
		}
	}
	return out, true
}

// lookupAddr returns the names of ip, or nil.
func (h *hosts) lookupAddr(ip netip.Addr) []string {
	if h == nil {
		return nil
	}
	names := h.byAddr[ip.Unmap().WithZone("")]
	if len(names) == 0 {
		return nil
	}
	return append([]string(nil), names...)
}

func containsAddr(s []netip.Addr, a netip.Addr) bool {
	for _, x := range s {
		if x == a {
			return true
		}
	}
	return false
}

func containsString(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
