package http

import (
	"bytes"
	"errors"
	nethttp "net/http"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// Errors of the chunked decoder. They are wrapped in a 400 statusError on
// the server side and returned as they are to client callers.
var (
	errChunkSize    = errors.New("http: malformed chunk size")
	errChunkExt     = errors.New("http: malformed chunk extension")
	errChunkFraming = errors.New("http: malformed chunk framing (missing CRLF)")
	errChunkTrailer = errors.New("http: malformed trailer")
	errBodyTooLarge = errors.New("http: body too large")
)

// Limits of the chunked decoder that are not the body limit.
const (
	maxChunkExtBytes   = 4096
	maxChunkSizeDigits = 16
)

type chunkState uint8

const (
	csSize chunkState = iota
	csExt
	csSizeLF
	csData
	csDataCR
	csDataLF
	csTrailerStart
	csTrailerLine
	csTrailerLF
	csEndLF
	csDone
)

// chunkedDecoder is an incremental decoder of the chunked transfer coding
// (RFC 9112 section 7.1) with chunk extensions (checked, then ignored) and
// trailer fields. It is strict: a chunk size is 1 to 16 hex digits, lines
// end in CRLF only, data is followed by CRLF, and the total body, trailer
// and extension sizes are bounded.
type chunkedDecoder struct {
	state      chunkState
	digits     int
	size       uint64 // remaining bytes of the current chunk
	total      int64  // data bytes decoded so far
	extLen     int
	line       []byte // the trailer line being read
	trailerLen int

	// Limit bounds the decoded body size (0: unbounded); MaxTrailer bounds
	// the trailer section in bytes (0: 16 KiB).
	Limit      int64
	MaxTrailer int
	// Trailer collects the trailer fields.
	Trailer nethttp.Header
}

// Done reports whether the last chunk and its trailers were decoded.
func (d *chunkedDecoder) Done() bool { return d.state == csDone }

func unhex(c byte) (uint64, bool) {
	switch {
	case '0' <= c && c <= '9':
		return uint64(c - '0'), true
	case 'a' <= c && c <= 'f':
		return uint64(c-'a') + 10, true
	case 'A' <= c && c <= 'F':
		return uint64(c-'A') + 10, true
	}
	return 0, false
}

// Decode consumes bytes of p and appends the chunk data it carries to dst.
// It returns the extended dst and the number of bytes of p consumed; when the
// message ends inside p (Done), the bytes after n belong to the next message.
// An error is final.
func (d *chunkedDecoder) Decode(dst, p []byte) ([]byte, int, error) {
	i := 0
	for i < len(p) {
		c := p[i]
		switch d.state {
		case csSize:
			if v, ok := unhex(c); ok {
				if d.digits == maxChunkSizeDigits || d.size > (1<<60) {
					return dst, i, errChunkSize
				}
				d.size = d.size<<4 | v
				d.digits++
				i++
				continue
			}
			if d.digits == 0 {
				return dst, i, errChunkSize
			}
			// No whitespace before a chunk extension: net/http refuses it
			// too, and parsers must agree on framing.
			switch c {
			case ';':
				d.state = csExt
			case '\r':
				d.state = csSizeLF
			default:
				return dst, i, errChunkSize
			}
			i++
		case csExt:
			if c == '\r' {
				d.state = csSizeLF
			} else if (c < ' ' && c != '\t') || c == 0x7f {
				return dst, i, errChunkExt
			}
			d.extLen++
			if d.extLen > maxChunkExtBytes {
				return dst, i, errChunkExt
			}
			i++
		case csSizeLF:
			if c != '\n' {
				return dst, i, errChunkFraming
			}
			i++
			if d.size == 0 {
				d.state = csTrailerStart
				continue
			}
			if d.Limit > 0 && d.size > uint64(d.Limit-d.total) {
				return dst, i, errBodyTooLarge
			}
			d.state = csData
		case csData:
			n := len(p) - i
			if uint64(n) > d.size {
				n = int(d.size)
			}
			dst = append(dst, p[i:i+n]...)
			i += n
			d.size -= uint64(n)
			d.total += int64(n)
			if d.size == 0 {
				d.state = csDataCR
			}
		case csDataCR:
			if c != '\r' {
				return dst, i, errChunkFraming
			}
			d.state = csDataLF
			i++
		case csDataLF:
			if c != '\n' {
				return dst, i, errChunkFraming
			}
			d.state, d.digits, d.size, d.extLen = csSize, 0, 0, 0
			i++
		case csTrailerStart:
			if c == '\r' {
				d.state = csEndLF
				i++
				continue
			}
			d.line = d.line[:0]
			d.state = csTrailerLine
		case csTrailerLine:
			j := bytes.IndexAny(p[i:], "\r\n")
			end := len(p)
			if j >= 0 {
				end = i + j
			}
			d.trailerLen += end - i
			if d.trailerLen > d.maxTrailer() {
				return dst, i, errChunkTrailer
			}
			d.line = append(d.line, p[i:end]...)
			i = end
			if j >= 0 {
				if p[i] == '\n' {
					return dst, i, errChunkTrailer
				}
				d.state = csTrailerLF
				i++
			}
		case csTrailerLF:
			if c != '\n' {
				return dst, i, errChunkTrailer
			}
			if err := d.addTrailer(d.line); err != nil {
				return dst, i, err
			}
			d.state = csTrailerStart
			i++
		case csEndLF:
			if c != '\n' {
				return dst, i, errChunkFraming
			}
			d.state = csDone
			i++
			return dst, i, nil
		case csDone:
			return dst, i, nil
		}
	}
	return dst, i, nil
}

func (d *chunkedDecoder) maxTrailer() int {
	if d.MaxTrailer > 0 {
		return d.MaxTrailer
	}
	return 16 << 10
}

// disallowedTrailer lists fields that must not be taken from a trailer
// (RFC 9110 section 6.5.1: framing, routing and control fields).
func disallowedTrailer(name string) bool {
	switch name {
	case "Content-Length", "Transfer-Encoding", "Host", "Trailer", "Te",
		"Connection", "Content-Type", "Content-Encoding", "Content-Range",
		"Expect", "Authorization", "Cookie", "Set-Cookie", "Cache-Control",
		"Max-Forwards", "Pragma", "Range", "Proxy-Authorization":
		return true
	}
	return false
}

func (d *chunkedDecoder) addTrailer(line []byte) error {
	c := bytes.IndexByte(line, ':')
	if c <= 0 {
		return errChunkTrailer
	}
	name := string(line[:c])
	value := strings.Trim(string(line[c+1:]), " \t")
	if !httpguts.ValidHeaderFieldName(name) || !httpguts.ValidHeaderFieldValue(value) {
		return errChunkTrailer
	}
	name = nethttp.CanonicalHeaderKey(name)
	if disallowedTrailer(name) {
		return nil
	}
	if d.Trailer == nil {
		d.Trailer = make(nethttp.Header)
	}
	d.Trailer[name] = append(d.Trailer[name], value)
	return nil
}

// appendChunk appends p as one chunk to dst. An empty p appends nothing (a
// zero-size chunk would end the body).
func appendChunk(dst, p []byte) []byte {
	if len(p) == 0 {
		return dst
	}
	dst = strconv.AppendUint(dst, uint64(len(p)), 16)
	dst = append(dst, '\r', '\n')
	dst = append(dst, p...)
	return append(dst, '\r', '\n')
}

// appendLastChunk appends the last chunk, the trailer fields that may be sent
// (valid names, values with CR/LF replaced by spaces, framing fields left
// out) and the final CRLF.
func appendLastChunk(dst []byte, trailer nethttp.Header) []byte {
	dst = append(dst, '0', '\r', '\n')
	for k, vv := range trailer {
		k = nethttp.CanonicalHeaderKey(k)
		if !httpguts.ValidHeaderFieldName(k) || disallowedTrailer(k) {
			continue
		}
		for _, v := range vv {
			dst = append(dst, k...)
			dst = append(dst, ':', ' ')
			dst = appendFieldValue(dst, v)
			dst = append(dst, '\r', '\n')
		}
	}
	return append(dst, '\r', '\n')
}

// appendFieldValue appends a header value with CR, LF and NUL replaced by a
// space and surrounding whitespace trimmed, so a value can never end the
// field early or inject another one (response splitting).
func appendFieldValue(dst []byte, v string) []byte {
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
		v = v[1:]
	}
	for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
		v = v[:len(v)-1]
	}
	clean := true
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == '\r' || c == '\n' || c == 0 {
			clean = false
			break
		}
	}
	if clean {
		return append(dst, v...)
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '\r' || c == '\n' || c == 0 {
			c = ' '
		}
		dst = append(dst, c)
	}
	return dst
}
