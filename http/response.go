package http

import (
	"encoding/json"
	nethttp "net/http"
)

// Response is a handler's answer. A fixed Body is sent with Content-Length;
// a Response made by NewStream or SSE stays open and is sent chunked.
// The server writes Date, Content-Length, Transfer-Encoding and Connection
// itself; set Header["Connection"] to "close" to close the connection after
// this response. Content-Type is sniffed from the body when not set.
type Response struct {
	// Status is the status code; 0 means 200.
	Status int
	// Header holds the response header fields. Values containing CR or LF
	// are sent with those bytes replaced by spaces.
	Header nethttp.Header
	// Body is the complete body of a non-streaming response.
	Body []byte
	// Trailer fields are sent after a chunked body (a response with
	// trailers is always chunked on HTTP/1.1).
	Trailer nethttp.Header

	stream  func(*Stream)
	discard func() // called instead of stream when the response is never sent
}

// smallBody is the largest body the constructors store in the same
// allocation as the Response.
const smallBody = 32

// typedResponse is a Response allocated together with the storage of its
// Content-Type value and, when short, of its body: one allocation instead
// of three. The value and body slices have no spare capacity, so an append
// by the caller copies them out; writing into them changes only this
// response, as with separate allocations.
type typedResponse struct {
	Response
	ct   [1]string
	body [smallBody]byte
}

// withType returns a response with one Content-Type field and a copy of
// body.
func withType(status int, contentType, body string) *Response {
	t := &typedResponse{}
	t.ct[0] = contentType
	t.Status = status
	t.Header = nethttp.Header{"Content-Type": t.ct[:]}
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
	return withType(status, "text/plain; charset=utf-8", body)
}

// HTML returns a text/html response.
func HTML(status int, body string) *Response {
	return withType(status, "text/html; charset=utf-8", body)
}

// Bytes returns a response with the given content type and body (kept, not
// copied).
func Bytes(status int, contentType string, body []byte) *Response {
	t := &typedResponse{}
	t.ct[0] = contentType
	t.Status = status
	t.Header = nethttp.Header{"Content-Type": t.ct[:]}
	t.Body = body
	return &t.Response
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
