package http

import (
	"bytes"
	nethttp "net/http"
	"net/textproto"
	"net/url"
	"strconv"
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

// tokenTable marks the bytes allowed in a token (method, field name).
var tokenTable = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = httpguts.IsTokenRune(rune(c))
	}
	return t
}()

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

// commonHeaders interns canonical header names: net/textproto's list and
// the names browsers, curl and HTTP clients send most.
var commonHeaders = func() map[string]string {
	m := make(map[string]string)
	for _, k := range []string{
		"Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language", "Accept-Ranges",
		"Authorization", "Cache-Control", "Connection", "Content-Encoding", "Content-Language",
		"Content-Length", "Content-Type", "Cookie", "Date", "Dnt", "Etag", "Expect", "Expires",
		"Forwarded", "From", "Host", "If-Match", "If-Modified-Since", "If-None-Match", "If-Range",
		"If-Unmodified-Since", "Keep-Alive", "Last-Modified", "Location", "Origin", "Pragma",
		"Priority", "Range", "Referer", "Sec-Ch-Ua", "Sec-Ch-Ua-Mobile", "Sec-Ch-Ua-Platform",
		"Sec-Fetch-Dest", "Sec-Fetch-Mode", "Sec-Fetch-Site", "Sec-Fetch-User", "Server",
		"Set-Cookie", "Te", "Trailer", "Transfer-Encoding", "Upgrade", "Upgrade-Insecure-Requests",
		"User-Agent", "Via", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto",
		"X-Real-Ip", "X-Request-Id", "X-Requested-With",
	} {
		m[k] = k
	}
	return m
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

// field is one header line of a head being parsed: offsets into the head.
type field struct {
	name, nameEnd, val, valEnd int32
}

// maxInlineValues is how many header values fit in a request block; more
// take an allocation of their own.
const maxInlineValues = 2

// reqBlock is the memory of one request: the Request, its URL and the
// backing array of its header values, allocated together.
type reqBlock struct {
	req  nethttp.Request
	url  url.URL
	vals [maxInlineValues]string
}

// headParser parses request heads for one connection: it owns the arena
// the heads' strings are made in, the slab request blocks come from, and
// scratch space for field offsets.
type headParser struct {
	arena  strArena
	slab   []reqBlock
	rslab  []respBlock
	fields []field
	ends   []int32 // line ends, when the caller has none
}

// newBlock returns a zeroed request block nobody else holds.
func (p *headParser) newBlock() *reqBlock {
	if len(p.slab) == 0 {
		p.slab = make([]reqBlock, reqSlabSize)
	}
	b := &p.slab[0]
	p.slab = p.slab[1:]
	return b
}

// reqSlabSize is how many request blocks are allocated at once. A request
// a handler keeps keeps its slab alive (a few KiB), nothing more: blocks
// are never handed out twice.
const reqSlabSize = 8

// headFacts is what parsing a request head found besides the Request.
type headFacts struct {
	chunked bool
	hosts   int
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
	b := p.arena.copyBytes(head)
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
	s := p.arena.view(b)

	blk := p.newBlock()
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

	hdr, fv := p.header(b, s, blk.vals[:], true)
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
	if hp, ok := hdr["Pragma"]; ok && hp[0] == "no-cache" {
		if _, ok := hdr["Cache-Control"]; !ok {
			hdr["Cache-Control"] = []string{"no-cache"}
		}
	}
	conn := hdr["Connection"]
	if minor == 0 {
		req.Close = httpguts.HeaderValuesContainsToken(conn, "close") || !httpguts.HeaderValuesContainsToken(conn, "keep-alive")
	} else if len(conn) > 0 {
		req.Close = httpguts.HeaderValuesContainsToken(conn, "close")
	}
	cls := hdr["Content-Length"]
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
	if tv, ok := hdr["Trailer"]; ok && facts.chunked {
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

// scanFields checks the header lines of head b, the first starting at pos,
// each ending at its entry of ends: a name of token bytes (no whitespace before the colon), a
// value of valid bytes; no obsolete line folding. It canonicalizes each
// name in place, as net/textproto does, and records the offsets of name
// and trimmed value in p.fields.
func (p *headParser) scanFields(b []byte, pos int, ends []int32) error {
	fields := p.fields[:0]
	for _, e32 := range ends {
		e := int(e32)
		ln := b[pos:e]
		colon := indexByteFrom(ln, 0, ':')
		if colon <= 0 {
			if colon < 0 && len(ln) > 0 && (ln[0] == ' ' || ln[0] == '\t') {
				return errStatus(nethttp.StatusBadRequest, "obsolete line folding in header")
			}
			return errStatus(nethttp.StatusBadRequest, "malformed header line")
		}
		upper := true
		for i := range colon {
			c := ln[i]
			if !tokenTable[c] {
				if c == ' ' || c == '\t' {
					return errStatus(nethttp.StatusBadRequest, "whitespace in header name")
				}
				return errStatus(nethttp.StatusBadRequest, "invalid header name")
			}
			if upper && 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			} else if !upper && 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			ln[i] = c
			upper = c == '-'
		}
		vs, ve := colon+1, len(ln)
		for i := vs; i < ve; i++ {
			if c := ln[i]; (c < ' ' && c != '\t') || c == 0x7f {
				return errStatus(nethttp.StatusBadRequest, "invalid header value")
			}
		}
		for vs < ve && (ln[vs] == ' ' || ln[vs] == '\t') {
			vs++
		}
		for ve > vs && (ln[ve-1] == ' ' || ln[ve-1] == '\t') {
			ve--
		}
		fields = append(fields, field{int32(pos), int32(pos + colon), int32(pos + vs), int32(pos + ve)})
		pos = e + 2
	}
	p.fields = fields
	return nil
}

// fieldFacts is what header found besides the map.
type fieldFacts struct {
	te    []string // Transfer-Encoding values (not in the map)
	hosts int      // Host fields (not in the map, with dropHost)
	host  string   // the last Host value
}

// header makes the header map of the fields scanFields recorded in b,
// whose string view is s: values are substrings of s, common names are
// interned, and single values use inline (one slot per field) as backing
// store when it is large enough. Transfer-Encoding is left out of the map
// (net/http removes it), and Host too with dropHost (as net/http's server
// does).
func (p *headParser) header(b []byte, s string, inline []string, dropHost bool) (nethttp.Header, fieldFacts) {
	var ff fieldFacts
	fields := p.fields
	vals := inline
	if len(fields) <= len(inline) {
		vals = inline[:len(fields)]
	} else {
		vals = make([]string, len(fields))
	}
	var hdr nethttp.Header
	if len(fields) <= 1 { // none, or only Host: the small-map path
		hdr = make(nethttp.Header)
	} else {
		hdr = make(nethttp.Header, len(fields))
	}
	for i, f := range fields {
		key, ok := commonHeaders[string(b[f.name:f.nameEnd])]
		if !ok {
			key = s[f.name:f.nameEnd]
		}
		v := s[f.val:f.valEnd]
		switch {
		case key == "Host" && dropHost:
			ff.hosts++
			ff.host = v
			continue
		case key == "Transfer-Encoding":
			ff.te = append(ff.te, v)
			continue
		}
		if vv := hdr[key]; vv != nil {
			hdr[key] = append(vv, v)
			continue
		}
		vals[i] = v
		hdr[key] = vals[i : i+1 : i+1]
	}
	return hdr, ff
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

// parseLength parses a Content-Length value as net/http does (decimal,
// at most 2^63-1).
func parseLength(v string) (int64, bool) {
	if v == "" || len(v) > 19 {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if n > 1<<63-1 {
		return 0, false
	}
	return int64(n), true
}

// trailerKeys returns the declared trailer keys of a chunked message
// (Request.Trailer, values nil), refusing keys that may not be trailers.
func trailerKeys(vv []string) (nethttp.Header, error) {
	tr := make(nethttp.Header)
	for _, v := range vv {
		for _, k := range strings.Split(v, ",") {
			k = textproto.TrimString(k)
			if k == "" {
				continue
			}
			k = nethttp.CanonicalHeaderKey(k)
			switch k {
			case "Transfer-Encoding", "Trailer", "Content-Length":
				return nil, errStatus(nethttp.StatusBadRequest, "bad trailer key "+strconv.Quote(k))
			}
			tr[k] = nil
		}
	}
	if len(tr) == 0 {
		return nil, nil
	}
	return tr, nil
}

// lineEnds appends to dst the offset of the CR of every line of head but
// the empty last one (the headScanner guarantees every CR starts a CRLF).
func lineEnds(head []byte, dst []int32) []int32 {
	for pos := 0; pos < len(head); {
		i := bytes.IndexByte(head[pos:], '\r')
		if i <= 0 {
			break
		}
		dst = append(dst, int32(pos+i))
		pos += i + 2
	}
	return dst
}

func indexByteFrom(b []byte, from int, c byte) int {
	for i := from; i < len(b); i++ {
		if b[i] == c {
			return i
		}
	}
	return -1
}

func asciiEqualFoldString(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}
