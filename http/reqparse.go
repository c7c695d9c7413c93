package http

import (
	nethttp "net/http"
	"net/url"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// This file is the server's request-head parser. It fills an
// *http.Request exactly as http.ReadRequest followed by net/http's server
// checks would (FuzzRequestHeadDifferential proves it against them), but
// without a bufio.Reader, a textproto.Reader or a string per field:
//
//   - the head is copied once into the connection's string arena (see
//     arena.go), header names are canonicalized in that copy, and every
//     string of the request (target, path, query, Host, values, uncommon
//     names) is a substring of one string made over the copy;
//   - common method, protocol and header-name strings are interned;
//   - the Request, its URL and the backing array of the header values
//     come from one block of the connection's request slab.
//
// Nothing is reused: each request gets fresh memory that nobody else
// writes, so a handler may keep a request (and any string of it) for as
// long as it likes.

// pathSafe marks the bytes a request path may hold and still be its own
// url.URL.Path with an empty RawPath: the bytes net/url does not escape in
// a path, minus '%' (an escape) and '?' (the query).
var pathSafe = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "-_.~$&+,/:;=@" {
		t[c] = true
	}
	return t
}()

// internMethod returns the constant for a common method.
func internMethod(b []byte) (string, bool) {
	switch string(b) {
	case "GET":
		return nethttp.MethodGet, true
	case "POST":
		return nethttp.MethodPost, true
	case "HEAD":
		return nethttp.MethodHead, true
	case "PUT":
		return nethttp.MethodPut, true
	case "DELETE":
		return nethttp.MethodDelete, true
	case "OPTIONS":
		return nethttp.MethodOptions, true
	case "PATCH":
		return nethttp.MethodPatch, true
	}
	return "", false
}

// reqBlock is the memory of one request: the Request and its URL,
// allocated together (448 bytes, a size class of its own).
type reqBlock struct {
	req nethttp.Request
	url url.URL
}

// reusedBlock is a request block of a WithRequestReuse server, with the
// header map made for it, kept for reuse.
type reusedBlock struct {
	reqBlock
	hdr nethttp.Header
}

// headParser parses request heads for one connection: scratch space for
// field offsets, and the memory the requests' strings, blocks and header
// values come from (on the server shared with the other connections of
// its event loop). The client's response parser uses arena and rslab.
type headParser struct {
	arena  strArena
	rslab  []respBlock
	mem    *loopMem       // request memory; nil until first needed when not shared
	free   []*reusedBlock // blocks to reuse (WithRequestReuse)
	reuse  bool           // WithRequestReuse
	fields []field
	ends   []int32 // line ends, when the caller has none
}

// loopMem is the string arena, request slab and header-value slab shared
// by the server connections of one event loop. Only that loop's goroutine
// uses it, and all three hand out memory exactly once, so sharing changes
// nothing a handler can see; it keeps the memory the loop writes next in
// one place (warm in the cache) instead of one partly used chunk and slab
// per connection, which also shrinks the live heap the garbage collector
// marks. A request a handler keeps keeps the chunks its memory came from
// alive (a few KiB), nothing more.
type loopMem struct {
	arena strArena
	slab  []reqBlock
	vals  []string
}

// reqSlabSize is how many request blocks are allocated at once: 9 blocks
// of 448 bytes fill a 4 KiB size class.
const reqSlabSize = 9

// valSlabSize is how many header values are allocated at once (4 KiB).
const valSlabSize = 256

// values returns n string slots nobody else holds, as the backing store
// of header values.
func (m *loopMem) values(n int) []string {
	if n > len(m.vals) {
		if n > valSlabSize/4 {
			return make([]string, n)
		}
		m.vals = make([]string, valSlabSize)
	}
	v := m.vals[:n:n]
	m.vals = m.vals[n:]
	return v
}

// loopMem returns the memory requests are made from.
func (p *headParser) loopMem() *loopMem {
	if p.mem == nil {
		p.mem = new(loopMem)
	}
	return p.mem
}

// newBlock returns a zeroed request block nobody else holds; with
// WithRequestReuse, also its reusable form and an empty header map to fill
// (nil for a new block).
func (p *headParser) newBlock() (*reqBlock, nethttp.Header, *reusedBlock) {
	if p.reuse {
		if n := len(p.free); n > 0 {
			rb := p.free[n-1]
			p.free[n-1] = nil
			p.free = p.free[:n-1]
			clear(rb.hdr)
			rb.reqBlock = reqBlock{}
			return &rb.reqBlock, rb.hdr, rb
		}
		rb := new(reusedBlock)
		return &rb.reqBlock, nil, rb
	}
	m := p.loopMem()
	if len(m.slab) == 0 {
		m.slab = make([]reqBlock, reqSlabSize)
	}
	b := &m.slab[0]
	m.slab = m.slab[1:]
	return b, nil, nil
}

// release gives back the block of a request whose reply has been written,
// under WithRequestReuse only: its Request, URL and header map serve a
// later request of the connection. (Strings are never reused: they stay
// in the append-only arena.)
func (p *headParser) release(b *reusedBlock) {
	if b != nil && p.reuse && len(p.free) < maxFreeBlocks {
		p.free = append(p.free, b)
	}
}

// maxFreeBlocks bounds the blocks a connection keeps for reuse.
const maxFreeBlocks = 16

// headFacts is what parsing a request head found besides the Request.
type headFacts struct {
	chunked bool
	hosts   int
	blk     *reusedBlock // the request's block, to release (WithRequestReuse)
}

// parseRequest parses head (request line to the empty line, CRLF line
// endings, no bare CR or LF: the headScanner checked) into a new Request
// equal to what http.ReadRequest followed by net/http's server checks
// (http1ServerSupportsRequest, the Host rules, httpguts on every field,
// Host removed from Header) produces, or refuses it with a *statusError.
// It is stricter than net/http where docs/http.md says so.
func (p *headParser) parseRequest(head []byte, ends []int32) (*nethttp.Request, headFacts, error) {
	var facts headFacts
	if ends == nil {
		p.ends = lineEnds(head, p.ends[:0])
		ends = p.ends
	}
	if len(ends) == 0 {
		return nil, facts, errStatus(nethttp.StatusBadRequest, "empty head")
	}
	mem := p.loopMem()
	b := mem.arena.copyBytes(head)
	// Request line.
	eol := int(ends[0])
	line := b[:eol]
	sp1 := indexByteFrom(line, 0, ' ')
	if sp1 < 0 {
		return nil, facts, errStatus(nethttp.StatusBadRequest, "malformed request line")
	}
	sp2 := indexByteFrom(line, sp1+1, ' ')
	if sp2 < 0 {
		return nil, facts, errStatus(nethttp.StatusBadRequest, "malformed request line")
	}
	methodB, targetB, protoB := line[:sp1], line[sp1+1:sp2], line[sp2+1:]
	if len(methodB) == 0 {
		return nil, facts, errStatus(nethttp.StatusBadRequest, "invalid method")
	}
	for _, c := range methodB {
		if !tokenTable[c] {
			return nil, facts, errStatus(nethttp.StatusBadRequest, "invalid method")
		}
	}
	var proto string
	var minor int
	switch string(protoB) {
	case "HTTP/1.1":
		proto, minor = "HTTP/1.1", 1
	case "HTTP/1.0":
		proto, minor = "HTTP/1.0", 0
	default:
		if _, _, ok := nethttp.ParseHTTPVersion(string(protoB)); ok {
			return nil, facts, errStatus(nethttp.StatusHTTPVersionNotSupported, "only HTTP/1.0 and 1.1 are served")
		}
		return nil, facts, errStatus(nethttp.StatusBadRequest, "malformed HTTP version")
	}

	// Header lines: validated, names canonicalized in place (b is the
	// arena's copy, not yet visible as a string).
	if err := p.scanFields(b, eol+2, ends[1:]); err != nil {
		return nil, facts, err
	}
	// From here on b is never written again: s is its string view.
	s := mem.arena.view(b)

	blk, hdr, rb := p.newBlock()
	req := &blk.req
	if m, ok := internMethod(methodB); ok {
		req.Method = m
	} else {
		req.Method = s[:sp1]
	}
	req.RequestURI = s[sp1+1 : sp2]
	req.Proto, req.ProtoMajor, req.ProtoMinor = proto, 1, minor
	u, err := parseTarget(&blk.url, req.Method, req.RequestURI, targetB)
	if err != nil {
		return nil, facts, errStatus(nethttp.StatusBadRequest, "malformed request target")
	}
	req.URL = u

	var vals []string
	if n := len(p.fields); n > 1 {
		vals = mem.values(n - 1) // one per field but Host, which is not in the map
	}
	hdr, fv := p.header(b, s, vals, true, hdr)
	if rb != nil {
		rb.hdr = hdr
		facts.blk = rb
	}
	facts.hosts = fv.hosts
	hostVal, te := fv.host, fv.te
	req.Header = hdr

	// The checks of net/http's server, then http.ReadRequest's own.
	if facts.hosts > 1 {
		return nil, facts, errStatus(nethttp.StatusBadRequest, "too many Host headers")
	}
	if facts.hosts == 0 && minor == 1 {
		return nil, facts, errStatus(nethttp.StatusBadRequest, "missing Host header")
	}
	if !httpguts.ValidHostHeader(hostVal) {
		return nil, facts, errStatus(nethttp.StatusBadRequest, "malformed Host header")
	}
	req.Host = u.Host
	if req.Host == "" {
		req.Host = hostVal
	} else if !httpguts.ValidHostHeader(req.Host) {
		return nil, facts, errStatus(nethttp.StatusBadRequest, "malformed Host in request target")
	}
	if hp := fv.lookup(hdr, "Pragma", hasPragma); len(hp) > 0 && hp[0] == "no-cache" {
		if _, ok := hdr["Cache-Control"]; !ok {
			hdr["Cache-Control"] = []string{"no-cache"}
		}
	}
	conn := fv.lookup(hdr, "Connection", hasConnection)
	if minor == 0 {
		req.Close = httpguts.HeaderValuesContainsToken(conn, "close") || !httpguts.HeaderValuesContainsToken(conn, "keep-alive")
	} else if len(conn) > 0 {
		req.Close = httpguts.HeaderValuesContainsToken(conn, "close")
	}
	cls := fv.lookup(hdr, "Content-Length", hasContentLength)
	if len(te) > 0 {
		switch {
		case minor == 0:
			return nil, facts, errStatus(nethttp.StatusBadRequest, "Transfer-Encoding in an HTTP/1.0 request")
		case len(cls) > 0:
			return nil, facts, errStatus(nethttp.StatusBadRequest, "both Content-Length and Transfer-Encoding")
		case len(te) > 1:
			return nil, facts, errStatus(nethttp.StatusBadRequest, "more than one Transfer-Encoding field")
		case !asciiEqualFoldString(te[0], "chunked"):
			return nil, facts, errStatus(nethttp.StatusNotImplemented, "unsupported transfer encoding")
		}
		facts.chunked = true
		req.TransferEncoding = chunkedTE
		req.ContentLength = -1
	}
	if len(cls) > 0 {
		for _, v := range cls[1:] {
			if v != cls[0] {
				return nil, facts, errStatus(nethttp.StatusBadRequest, "differing Content-Length fields")
			}
		}
		if len(cls) > 1 {
			hdr["Content-Length"] = []string{cls[0]}
		}
		n, ok := parseLength(cls[0])
		if !ok {
			return nil, facts, errStatus(nethttp.StatusBadRequest, "bad Content-Length")
		}
		req.ContentLength = n
	}
	if tv := fv.lookup(hdr, "Trailer", hasTrailer); len(tv) > 0 && facts.chunked {
		tr, err := trailerKeys(tv)
		if err != nil {
			return nil, facts, err
		}
		delete(hdr, "Trailer")
		req.Trailer = tr
	}
	if req.ContentLength == 0 {
		req.Body = nethttp.NoBody
	}
	return req, facts, nil
}

// chunkedTE is Request.TransferEncoding of a chunked request. Handlers
// must not modify it (net/http makes a new slice per request; nobody
// writes into it).
var chunkedTE = []string{"chunked"}

// parseTarget fills u from the request target as url.ParseRequestURI
// does (with net/http's CONNECT rule). A plain origin-form path is parsed
// here without allocating; anything else goes to net/url.
func parseTarget(u *url.URL, method, target string, tb []byte) (*url.URL, error) {
	if len(tb) > 0 && tb[0] == '/' {
		q := -1
		for i, c := range tb {
			if c == '?' {
				q = i
				break
			}
			if !pathSafe[c] {
				q = -2
				break
			}
		}
		if q != -2 {
			if q < 0 {
				u.Path = target
				return u, nil
			}
			ok := true
			for _, c := range tb[q+1:] {
				if c < 0x21 || c > 0x7e {
					ok = false
					break
				}
			}
			if ok {
				u.Path = target[:q]
				if q == len(target)-1 {
					u.ForceQuery = true
				} else {
					u.RawQuery = target[q+1:]
				}
				return u, nil
			}
		}
	}
	raw := target
	authority := method == nethttp.MethodConnect && !strings.HasPrefix(target, "/")
	if authority {
		raw = "http://" + target
	}
	pu, err := url.ParseRequestURI(raw)
	if err != nil {
		return nil, err
	}
	if authority {
		pu.Scheme = ""
	}
	return pu, nil
}
