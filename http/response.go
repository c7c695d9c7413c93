package http

import (
	"encoding/json"
	nethttp "net/http"
)

// Response is a handler's answer. A fixed Body is sent with Content-Length;
// a Response made by NewStream or SSE stays open and is sent chunked.
// The server writes Date, Content-Length, Transfer-Encoding and Connection
// itself; set Header["Connection"] to "close" to close the connection after
// this response.
//
// Text, HTML, Bytes and JSON return a Response whose Header is nil: the
// content type they chose is kept beside it (ContentType) and written
// straight to the wire, so a reply that sets no other field costs no map.
// SetHeader (or assigning a Header) adds fields; a Content-Type in Header
// wins over the constructor's. With neither, Content-Type is sniffed from
// the body, as net/http does.
type Response struct {
	// Status is the status code; 0 means 200.
	Status int
	// Header holds the response header fields; nil when none were set.
	// Values containing CR or LF are sent with those bytes replaced by
	// spaces, and fields with invalid names are not sent.
	Header nethttp.Header
	// Body is the complete body of a non-streaming response.
	Body []byte
	// Trailer fields are sent after a chunked body (a response with
	// trailers is always chunked on HTTP/1.1).
	Trailer nethttp.Header

	ctype   string // the constructor's Content-Type, when Header has none
	stream  func(*Stream)
	discard func() // called instead of stream when the response is never sent
}

// SetHeader sets the header field key to value (replacing its values),
// making the Header map if there is none, and returns r for chaining:
//
//	return ahttp.Text(200, "ok").SetHeader("Cache-Control", "no-store")
func (r *Response) SetHeader(key, value string) *Response {
	if r.Header == nil {
		r.Header = make(nethttp.Header, 1)
	}
	r.Header.Set(key, value)
	return r
}

// ContentType returns the Content-Type the response is sent with when it
// has a body: Header's if set, else the one chosen by the constructor
// (empty when the server is to sniff it from the body).
func (r *Response) ContentType() string {
	if v, ok := r.Header["Content-Type"]; ok {
		if len(v) == 0 {
			return ""
		}
		return v[0]
	}
	return r.ctype
}

// smallBody is the largest body the constructors store in the same
// allocation as the Response.
const smallBody = 16

// The content types of Text and HTML, written without the CR/LF check.
const (
	textPlain = "text/plain; charset=utf-8"
	textHTML  = "text/html; charset=utf-8"
)

// typedResponse is a Response allocated together with the storage of its
// body when short: one allocation instead of two (96 bytes). The body slice has no
// spare capacity, so an append by the caller copies it out; writing into
// it changes only this response, as with separate allocations.
type typedResponse struct {
	Response
	body [smallBody]byte
}

// withType returns a response with the given content type and a copy of
// body.
func withType(status int, contentType, body string) *Response {
	t := &typedResponse{}
	t.Status = status
	t.ctype = contentType
	if len(body) <= smallBody {
		n := copy(t.body[:], body)
		t.Body = t.body[:n:n]
	} else {
		t.Body = []byte(body)
	}
	return &t.Response
}

// Text returns a text/plain response.
func Text(status int, body string) *Response {
	return withType(status, textPlain, body)
}

// HTML returns a text/html response.
func HTML(status int, body string) *Response {
	return withType(status, textHTML, body)
}

// Bytes returns a response with the given content type and body (kept, not
// copied).
func Bytes(status int, contentType string, body []byte) *Response {
	return &Response{Status: status, ctype: contentType, Body: body}
}

// JSON returns an application/json response holding v encoded with
// encoding/json; if v cannot be encoded the response is a 500.
func JSON(status int, v any) *Response {
	b, err := json.Marshal(v)
	if err != nil {
		return Text(nethttp.StatusInternalServerError, "json: "+err.Error()+"\n")
	}
	return Bytes(status, "application/json", append(b, '\n'))
}

// Error returns a plain-text error response whose body is the status text
// followed by msg.
func Error(status int, msg string) *Response {
	s := nethttp.StatusText(status)
	if msg != "" {
		s += ": " + msg
	}
	return Text(status, s+"\n")
}

// Redirect returns a redirect to location with the given 3xx status.
func Redirect(status int, location string) *Response {
	return &Response{Status: status, Header: nethttp.Header{"Location": {location}}}
}
