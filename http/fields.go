package http

import (
	"bytes"
	"encoding/binary"
	nethttp "net/http"
	"net/textproto"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// This file holds what the request and response head parsers share:
// checking and canonicalizing header lines, building the header map over
// the head's string, and the small field parsers.

// tokenTable marks the bytes allowed in a token (method, field name).
var tokenTable = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = httpguts.IsTokenRune(rune(c))
	}
	return t
}()

// internHeader returns the interned canonical name for a common header
// name (already canonicalized): net/textproto's list and the names
// browsers, curl and HTTP clients send most. A switch, which the compiler
// turns into a search by length and then by content, costs less than
// hashing the name for a map lookup.
func internHeader(b []byte) (string, bool) {
	switch string(b) {
	case "Accept":
		return "Accept", true
	case "Accept-Charset":
		return "Accept-Charset", true
	case "Accept-Encoding":
		return "Accept-Encoding", true
	case "Accept-Language":
		return "Accept-Language", true
	case "Accept-Ranges":
		return "Accept-Ranges", true
	case "Authorization":
		return "Authorization", true
	case "Cache-Control":
		return "Cache-Control", true
	case "Connection":
		return "Connection", true
	case "Content-Encoding":
		return "Content-Encoding", true
	case "Content-Language":
		return "Content-Language", true
	case "Content-Length":
		return "Content-Length", true
	case "Content-Type":
		return "Content-Type", true
	case "Cookie":
		return "Cookie", true
	case "Date":
		return "Date", true
	case "Dnt":
		return "Dnt", true
	case "Etag":
		return "Etag", true
	case "Expect":
		return "Expect", true
	case "Expires":
		return "Expires", true
	case "Forwarded":
		return "Forwarded", true
	case "From":
		return "From", true
	case "Host":
		return "Host", true
	case "If-Match":
		return "If-Match", true
	case "If-Modified-Since":
		return "If-Modified-Since", true
	case "If-None-Match":
		return "If-None-Match", true
	case "If-Range":
		return "If-Range", true
	case "If-Unmodified-Since":
		return "If-Unmodified-Since", true
	case "Keep-Alive":
		return "Keep-Alive", true
	case "Last-Modified":
		return "Last-Modified", true
	case "Location":
		return "Location", true
	case "Origin":
		return "Origin", true
	case "Pragma":
		return "Pragma", true
	case "Priority":
		return "Priority", true
	case "Range":
		return "Range", true
	case "Referer":
		return "Referer", true
	case "Sec-Ch-Ua":
		return "Sec-Ch-Ua", true
	case "Sec-Ch-Ua-Mobile":
		return "Sec-Ch-Ua-Mobile", true
	case "Sec-Ch-Ua-Platform":
		return "Sec-Ch-Ua-Platform", true
	case "Sec-Fetch-Dest":
		return "Sec-Fetch-Dest", true
	case "Sec-Fetch-Mode":
		return "Sec-Fetch-Mode", true
	case "Sec-Fetch-Site":
		return "Sec-Fetch-Site", true
	case "Sec-Fetch-User":
		return "Sec-Fetch-User", true
	case "Server":
		return "Server", true
	case "Set-Cookie":
		return "Set-Cookie", true
	case "Te":
		return "Te", true
	case "Trailer":
		return "Trailer", true
	case "Transfer-Encoding":
		return "Transfer-Encoding", true
	case "Upgrade":
		return "Upgrade", true
	case "Upgrade-Insecure-Requests":
		return "Upgrade-Insecure-Requests", true
	case "User-Agent":
		return "User-Agent", true
	case "Via":
		return "Via", true
	case "X-Forwarded-For":
		return "X-Forwarded-For", true
	case "X-Forwarded-Host":
		return "X-Forwarded-Host", true
	case "X-Forwarded-Proto":
		return "X-Forwarded-Proto", true
	case "X-Real-Ip":
		return "X-Real-Ip", true
	case "X-Request-Id":
		return "X-Request-Id", true
	case "X-Requested-With":
		return "X-Requested-With", true
	}
	return "", false
}

// field is one header line of a head being parsed: offsets into the head,
// and the interned name when scanFields found a common one.
type field struct {
	name, nameEnd, val, valEnd int32
	key                        string
}

// scanFields checks the header lines of head b, the first starting at pos,
// each ending at its entry of ends: a name of token bytes (no whitespace
// before the colon), a value of valid bytes; no obsolete line folding. It
// canonicalizes each name in place, as net/textproto does, and records the
// offsets of name and trimmed value in p.fields.
func (p *headParser) scanFields(b []byte, pos int, ends []int32) error {
	fields := p.fields[:0]
	for _, e32 := range ends {
		e := int(e32)
		ln := b[pos:e]
		// A common name sent in canonical form (what most peers send) is
		// valid as it is; any other is checked and canonicalized in one
		// pass up to the colon.
		colon := bytes.IndexByte(ln, ':')
		var key string
		if colon > 0 {
			key, _ = internHeader(ln[:colon])
		}
		if key == "" {
			colon = -1
			upper := true
			for i, c := range ln {
				if c == ':' {
					colon = i
					break
				}
				if !tokenTable[c] {
					return badName(ln, i)
				}
				if upper && 'a' <= c && c <= 'z' {
					c -= 'a' - 'A'
					ln[i] = c
				} else if !upper && 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
					ln[i] = c
				}
				upper = c == '-'
			}
			if colon <= 0 {
				return errStatus(nethttp.StatusBadRequest, "malformed header line")
			}
			key, _ = internHeader(ln[:colon])
		}
		vs, ve := colon+1, len(ln)
		if !validFieldValue(ln[vs:]) {
			return errStatus(nethttp.StatusBadRequest, "invalid header value")
		}
		for vs < ve && (ln[vs] == ' ' || ln[vs] == '\t') {
			vs++
		}
		for ve > vs && (ln[ve-1] == ' ' || ln[ve-1] == '\t') {
			ve--
		}
		fields = append(fields, field{int32(pos), int32(pos + colon), int32(pos + vs), int32(pos + ve), key})
		pos = e + 2
	}
	p.fields = fields
	return nil
}

// badName is the error for header line ln whose byte i, before any colon,
// is not a token byte: a line that starts with whitespace and has no colon
// is obsolete line folding, one with whitespace before its colon is
// refused as a smuggling vector, and the rest are malformed.
func badName(ln []byte, i int) error {
	c := ln[i]
	switch {
	case bytes.IndexByte(ln[i:], ':') < 0:
		if ln[0] == ' ' || ln[0] == '\t' {
			return errStatus(nethttp.StatusBadRequest, "obsolete line folding in header")
		}
		return errStatus(nethttp.StatusBadRequest, "malformed header line")
	case c == ' ' || c == '\t':
		return errStatus(nethttp.StatusBadRequest, "whitespace in header name")
	}
	return errStatus(nethttp.StatusBadRequest, "invalid header name")
}

// validFieldValue reports whether v holds no control byte but tab (no
// CTL but HTAB, RFC 9110 section 5.5; obs-text is allowed, as net/http
// does). It tests eight bytes at a time: a word with no byte below 0x20 and
// none equal to 0x7f is valid as a whole; a word with one is checked byte
// by byte (tabs are rare).
func validFieldValue(v []byte) bool {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	i := 0
	for ; i+8 <= len(v); i += 8 {
		x := binary.LittleEndian.Uint64(v[i:])
		// A byte below 0x20, or equal to 0x7f, sets its high bit in
		// (x - 0x20 each) or ((x ^ 0x7f each) - 1 each); ^x drops the
		// bytes from 0x80 up (obs-text). Borrows only follow a byte that
		// was flagged already, so a clean word is never flagged.
		if ((x-0x20*ones)|((x^0x7f*ones)-ones))&^x&highs == 0 {
			continue
		}
		for _, c := range v[i : i+8] {
			if (c < ' ' && c != '\t') || c == 0x7f {
				return false
			}
		}
	}
	for _, c := range v[i:] {
		if (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// fieldFacts is what header found besides the map.
type fieldFacts struct {
	te    []string // Transfer-Encoding values (not in the map)
	hosts int      // Host fields (not in the map, with dropHost)
	host  string   // the last Host value
	has   uint8    // which of the names the parsers look up are in the map
}

// The names the head parsers look up after header, so a head without them
// costs no map lookup.
const (
	hasConnection uint8 = 1 << iota
	hasContentLength
	hasPragma
	hasTrailer
)

// lookup returns hdr[name] when header recorded bit for it, else nil
// without touching the map.
func (ff *fieldFacts) lookup(hdr nethttp.Header, name string, bit uint8) []string {
	if ff.has&bit == 0 {
		return nil
	}
	return hdr[name]
}

// dupScan is how many distinct names header tells apart by comparing them
// with the names before (no hashing); a head with more fields asks the
// map.
const dupScan = 8

// header fills hdr (an empty map, or nil to make one) with the fields
// scanFields recorded in b, whose string view is s: values are substrings
// of s, common names are interned, and each name's first value takes the
// next slot of inline as its backing store (capacity one: an append copies
// it out), or of a fresh array once inline is used up. Transfer-Encoding
// is left out of the map (net/http removes it), and Host too with dropHost
// (as net/http's server does).
func (p *headParser) header(b []byte, s string, inline []string, dropHost bool, hdr nethttp.Header) (nethttp.Header, fieldFacts) {
	var ff fieldFacts
	fields := p.fields
	vals, next := inline, 0
	switch {
	case hdr != nil: // an empty map to reuse (WithRequestReuse)
	case len(fields) <= 1: // none, or only Host: the small-map path
		hdr = make(nethttp.Header)
	default:
		hdr = make(nethttp.Header, len(fields))
	}
	var (
		seen  [dupScan]string // the names in the map so far, when few
		nseen int
	)
	few := len(fields) <= dupScan
	for i, f := range fields {
		key, interned := f.key, f.key != ""
		if !interned {
			key = s[f.name:f.nameEnd]
		}
		v := s[f.val:f.valEnd]
		if interned {
			switch key {
			case "Host":
				if dropHost {
					ff.hosts++
					ff.host = v
					continue
				}
			case "Transfer-Encoding":
				ff.te = append(ff.te, v)
				continue
			case "Connection":
				ff.has |= hasConnection
			case "Content-Length":
				ff.has |= hasContentLength
			case "Pragma":
				ff.has |= hasPragma
			case "Trailer":
				ff.has |= hasTrailer
			}
		}
		dup := false
		if few {
			for _, k := range seen[:nseen] {
				if k == key {
					dup = true
					break
				}
			}
		} else {
			dup = hdr[key] != nil
		}
		if dup {
			hdr[key] = append(hdr[key], v)
			continue
		}
		if few {
			seen[nseen] = key
			nseen++
		}
		if next == len(vals) {
			vals, next = make([]string, len(fields)-i), 0
		}
		vals[next] = v
		hdr[key] = vals[next : next+1 : next+1]
		next++
	}
	return hdr, ff
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
