// Package http is an asynchronous HTTP/1.1 server and client over the tcp
// package, with typed request parameters, server-sent events and
// publish/subscribe channels.
//
// Programs usually import net/http as well; import this package under
// another name:
//
//	import (
//		nethttp "net/http"
//		ahttp "github.com/goasync/goasync/http"
//	)
//
// # Server
//
// Listen serves a Handler, whose Serve method runs on the connection's
// event loop and returns a future of the Response, so a reply can wait on
// timers, sockets or other requests without blocking the loop. Router
// dispatches by Go 1.22 ServeMux patterns ("GET /items/{id}"); Typed
// declares a handler's parameters once, as a tagged struct, and answers 400
// naming the first invalid one; Adapt runs plain net/http handlers on the
// blocking-work pool; Files serves a directory and nothing outside it.
//
// The server frames requests itself (end of head, Content-Length, a strict
// chunked decoder) and parses heads with its own parser, which fills the
// *http.Request exactly as http.ReadRequest and net/http's server checks
// would (proved by differential fuzzing) without their allocations. It
// keeps connections alive, answers pipelined requests in order, reads and
// writes chunked bodies, answers Expect: 100-continue, refuses request
// smuggling, and enforces Limits with 400, 408, 413, 431, 501 and 505
// replies. Close shuts down gracefully.
//
// # Streams and server-sent events
//
// SSE and NewStream make responses that stay open; their Stream is written
// from any goroutine without blocking, with a bounded buffer. A Hub holds
// named channels of streams: Publish never blocks, drops subscribers that
// fall behind, and forgets subscribers whose connection ended.
//
// # Client
//
// Client.Do and Client.Get (and the package-level Do and Get) return
// futures of *net/http.Response, with a keep-alive pool per scheme, host
// and port, https (TLSClientConfig), timeouts, redirects and streaming
// bodies; ReadAll collects a body as a future, NextChunk and
// EventStream.Next follow a body or an event stream without blocking, and
// EventReader reads an event stream from a goroutine.
//
// # Inside net/http, TLS
//
// NetHTTP is the reverse of Adapt: a net/http.Handler view of a goasync
// handler, for httptest or an existing net/http server. WithTLS serves
// https with Go's crypto/tls.
//
// See docs/http.md in the repository for the design and its reasons.
package http
