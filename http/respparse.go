package http

import (
	"fmt"
	nethttp "net/http"

	"golang.org/x/net/http/httpguts"
)

// respBlock is the memory of one response head: the Response and the
// backing array of its header values, allocated together.
type respBlock struct {
	resp nethttp.Response
	vals [maxInlineRespValues]string
}

// maxInlineRespValues is how many header values fit in a response block:
// servers send a few fields more than clients (Date, Content-Type,
// Content-Length, Server).
const maxInlineRespValues = 4

// respSlabSize is how many response blocks are allocated at once (see
// reqSlabSize).
const respSlabSize = 8

func (p *headParser) newRespBlock() *respBlock {
	if len(p.rslab) == 0 {
		p.rslab = make([]respBlock, respSlabSize)
	}
	b := &p.rslab[0]
	p.rslab = p.rslab[1:]
	return b
}

// badResponse wraps a reason in ErrBadResponse.
func badResponse(reason string) error { return fmt.Errorf("%w: %s", ErrBadResponse, reason) }

// parseResponse parses a response head (status line to the empty line,
// CRLF line endings, no bare CR or LF: the headScanner checked) to the
// request req (nil means GET) into a new Response equal to what
// http.ReadResponse makes of it (FuzzResponseHeadDifferential proves it),
// with the client's checks on top: HTTP/1.0 or 1.1, a three-digit status
// from 100, field names and values valid for httpguts, no obsolete line
// folding, at most one Transfer-Encoding and only chunked. The Body is not
// set. Failures wrap ErrBadResponse.
func (p *headParser) parseResponse(head []byte, ends []int32, req *nethttp.Request) (*nethttp.Response, error) {
	if ends == nil {
		p.ends = lineEnds(head, p.ends[:0])
		ends = p.ends
	}
	if len(ends) == 0 {
		return nil, badResponse("empty head")
	}
	b := p.arena.copyBytes(head)
	eol := int(ends[0])
	line := b[:eol]
	sp := indexByteFrom(line, 0, ' ')
	if sp < 0 {
		return nil, badResponse("malformed status line")
	}
	var proto string
	var minor int
	switch string(line[:sp]) {
	case "HTTP/1.1":
		proto, minor = "HTTP/1.1", 1
	case "HTTP/1.0":
		proto, minor = "HTTP/1.0", 0
	default:
		return nil, badResponse("not HTTP/1.0 or 1.1")
	}
	st := sp + 1
	for st < eol && b[st] == ' ' {
		st++
	}
	code := 0
	for i := st; i < st+3; i++ {
		if i >= eol || b[i] < '0' || b[i] > '9' {
			return nil, badResponse("malformed status code")
		}
		code = code*10 + int(b[i]-'0')
	}
	if (st+3 < eol && b[st+3] != ' ') || code < 100 {
		return nil, badResponse("malformed status code")
	}
	if err := p.scanFields(b, eol+2, ends[1:]); err != nil {
		return nil, badResponse(err.(*statusError).Reason)
	}
	s := p.arena.view(b)
	blk := p.newRespBlock()
	resp := &blk.resp
	resp.Request = req
	resp.Proto, resp.ProtoMajor, resp.ProtoMinor = proto, 1, minor
	resp.Status = s[st:eol]
	resp.StatusCode = code
	hdr, ff := p.header(b, s, blk.vals[:], false, nil)
	resp.Header = hdr
	if hp := ff.lookup(hdr, "Pragma", hasPragma); len(hp) > 0 && hp[0] == "no-cache" {
		if _, ok := hdr["Cache-Control"]; !ok {
			hdr["Cache-Control"] = []string{"no-cache"}
		}
	}
	method := nethttp.MethodGet
	if req != nil {
		method = req.Method
	}
	// net/http's readTransfer for a response.
	conn := ff.lookup(hdr, "Connection", hasConnection)
	hasClose := len(conn) > 0 && httpguts.HeaderValuesContainsToken(conn, "close")
	closeConn := hasClose
	if minor == 0 {
		closeConn = hasClose || !httpguts.HeaderValuesContainsToken(conn, "keep-alive")
	} else if hasClose {
		delete(hdr, "Connection")
	}
	chunked := false
	if len(ff.te) > 0 && minor >= 1 { // ignored on HTTP/1.0, as net/http does
		if len(ff.te) != 1 || !asciiEqualFoldString(ff.te[0], "chunked") {
			return nil, badResponse("unsupported transfer encoding")
		}
		chunked = true
	}
	cls := ff.lookup(hdr, "Content-Length", hasContentLength)
	declared := int64(-1)
	if len(cls) > 0 {
		for _, v := range cls[1:] {
			if v != cls[0] {
				return nil, badResponse("differing Content-Length fields")
			}
		}
		if len(cls) > 1 {
			hdr["Content-Length"] = []string{cls[0]}
		}
		n, ok := parseLength(cls[0])
		if !ok {
			return nil, badResponse("bad Content-Length")
		}
		declared = n
	}
	var length int64
	switch {
	case method == nethttp.MethodHead, code/100 == 1, code == 204, code == 304:
		length = 0
	case chunked:
		delete(hdr, "Content-Length")
		length = -1
	default:
		length = declared
	}
	if method == nethttp.MethodHead {
		resp.ContentLength = declared
	} else {
		resp.ContentLength = length
	}
	if tv := ff.lookup(hdr, "Trailer", hasTrailer); len(tv) > 0 && chunked {
		delete(hdr, "Trailer")
		tr, err := trailerKeys(tv)
		if err != nil {
			return nil, badResponse("bad trailer key")
		}
		resp.Trailer = tr
	}
	if length == -1 && !chunked && bodyAllowed("", code) {
		closeConn = true // delimited by the close
	}
	resp.Close = closeConn
	if chunked {
		resp.TransferEncoding = chunkedTE
	}
	return resp, nil
}
