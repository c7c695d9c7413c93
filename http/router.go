package http

import (
	"bytes"
	"context"
	nethttp "net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/goasync/goasync/future"
)

// Router dispatches requests to handlers by method and path pattern. The
// patterns are those of Go 1.22's net/http.ServeMux, which does the
// matching: "GET /items/{id}", "POST /send-message", "/static/{path...}"
// (a rest variable), "/{$}" (the root only), host-specific patterns, and
// the same precedence rules. Path variables are read with
// r.PathValue("id"). A path that matches no pattern answers 404; a path
// that matches only for other methods answers 405 with an Allow header;
// non-canonical paths (".." segments, double slashes) are redirected to
// their clean form, exactly as ServeMux does.
//
// Register all routes before serving; Handle panics on an invalid or
// conflicting pattern, like ServeMux.
type Router struct {
	mux     *nethttp.ServeMux
	streams map[string]int64 // patterns registered with StreamBody handlers
	// hosts is set when a pattern names a host: the route cache then
	// keys on the host too.
	hosts bool
	// routes caches what ServeMux found for a method and path (and host)
	// that matched a pattern without wildcards: the same answer every
	// time, as long as no pattern is added (Handle clears it).
	routes atomic.Pointer[map[routeKey]*lastRoute]
	// last is the route cache's last hit: most traffic repeats the route
	// of the request before, and comparing two short strings is cheaper
	// than hashing them.
	last atomic.Pointer[lastRoute]
}

// lastRoute is a route cache entry with its key.
type lastRoute struct {
	key   routeKey
	route cachedRoute
}

// routeKey is a request's method, cleaned path and, with host patterns,
// host.
type routeKey struct{ method, host, path string }

// cachedRoute is a match ServeMux made.
type cachedRoute struct {
	h       Handler
	pattern string
}

// maxCachedRoutes bounds the route cache; past it, new matches are not
// cached (a client probing many paths cannot grow it).
const maxCachedRoutes = 1024

// NewRouter returns an empty router.
func NewRouter() *Router { return &Router{mux: nethttp.NewServeMux()} }

// Handle registers h for pattern.
func (rt *Router) Handle(pattern string, h Handler) {
	if h == nil {
		panic("http: nil handler for " + pattern)
	}
	rt.routes.Store(nil)
	rt.last.Store(nil)
	if p := pattern[strings.IndexByte(pattern, ' ')+1:]; !strings.HasPrefix(strings.TrimLeft(p, " \t"), "/") {
		rt.hosts = true
	}
	if sh, ok := h.(*streamHandler); ok {
		if rt.streams == nil {
			rt.streams = make(map[string]int64)
		}
		rt.streams[pattern] = sh.limit
	}
	rt.mux.Handle(pattern, nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		if c, ok := w.(*capture); ok {
			c.h, c.r = h, r
			return
		}
		// Reached through ServeMux by a caller other than Router.Serve:
		// nothing sensible to do but refuse.
		nethttp.Error(w, "asynchronous handler", nethttp.StatusInternalServerError)
	}))
}

// HandleFunc registers fn for pattern.
func (rt *Router) HandleFunc(pattern string, fn func(r *nethttp.Request) *future.Future[*Response]) {
	rt.Handle(pattern, HandlerFunc(fn))
}

// streamBody reports whether r goes to a route registered with a
// StreamBody handler (the server asks before reading r's body).
func (rt *Router) streamBody(r *nethttp.Request) (int64, bool) {
	if len(rt.streams) == 0 {
		return 0, false
	}
	_, pattern := rt.mux.Handler(r)
	limit, ok := rt.streams[pattern]
	return limit, ok
}

// Serve routes r to its handler, or answers 404, 405 or a redirect.
func (rt *Router) Serve(r *nethttp.Request) *future.Future[*Response] {
	resp, f := rt.serveEither(r, nil)
	if f == nil {
		return Reply(resp)
	}
	return f
}

func (rt *Router) serveEither(r *nethttp.Request, ctx context.Context) (*Response, *future.Future[*Response]) {
	// The last hit first: its key was checked clean when it was cached,
	// so an equal method and path (and host) need no other check.
	if l := rt.last.Load(); l != nil && r.URL != nil && r.URL.RawPath == "" && l.key.path == r.URL.Path &&
		l.key.method == r.Method && (!rt.hosts || l.key.host == r.Host) {
		r.Pattern = l.route.pattern
		return serveEither(l.route.h, r, ctx)
	}
	key, cacheable := rt.key(r)
	if cacheable {
		if m := rt.routes.Load(); m != nil {
			if e, ok := (*m)[key]; ok {
				rt.last.Store(e)
				r.Pattern = e.route.pattern
				return serveEither(e.route.h, r, ctx)
			}
		}
	}
	c := captures.Get().(*capture)
	rt.mux.ServeHTTP(c, r)
	if h, hr := c.h, c.r; h != nil && c.header == nil && c.status == 0 && c.body.Len() == 0 {
		// Matched a route: nothing of c is kept, so it is reused.
		c.h, c.r = nil, nil
		captures.Put(c)
		if cacheable && hr == r && !capturing(r.Pattern) {
			rt.remember(key, cachedRoute{h: h, pattern: r.Pattern})
		}
		return serveEither(h, hr, ctx)
	}
	// ServeMux answered itself (or wrote before matching): the reply
	// keeps c's header and body, so c is not reused.
	if c.h != nil {
		return serveEither(c.h, c.r, ctx)
	}
	return c.response(), nil
}

// capturing reports whether a ServeMux pattern has a wildcard that
// captures part of the path (a PathValue): such a route is not cached, its
// matches differ from request to request. "{$}", which only anchors the
// end of the path, captures nothing.
func capturing(pattern string) bool {
	for i := 0; i < len(pattern); i++ {
		if pattern[i] == '{' && !strings.HasPrefix(pattern[i:], "{$}") {
			return true
		}
	}
	return false
}

// key returns the route cache's key for r, and whether r may use the
// cache: a path that is its own escaped form and already clean (ServeMux
// would otherwise redirect or match on another form), not CONNECT.
func (rt *Router) key(r *nethttp.Request) (routeKey, bool) {
	u := r.URL
	if u == nil || u.RawPath != "" || r.Method == nethttp.MethodConnect || !cleanPath(u.Path) {
		return routeKey{}, false
	}
	k := routeKey{method: r.Method, path: u.Path}
	if rt.hosts {
		k.host = r.Host
	}
	return k, true
}

// cleanPath reports whether p is a rooted path path.Clean leaves alone
// (a trailing slash allowed), with only the bytes a path keeps unescaped.
func cleanPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !pathSafe[c] {
			return false
		}
		if c == '/' && i+1 < len(p) && (p[i+1] == '/' || p[i+1] == '.' && (i+2 == len(p) || p[i+2] == '/' ||
			p[i+2] == '.' && (i+3 == len(p) || p[i+3] == '/'))) {
			return false
		}
	}
	return true
}

// remember adds a match to the route cache (copy on write: matches are
// added once per distinct route, lookups are many).
func (rt *Router) remember(k routeKey, cr cachedRoute) {
	for {
		old := rt.routes.Load()
		n := 0
		if old != nil {
			n = len(*old)
		}
		if n >= maxCachedRoutes {
			return
		}
		m := make(map[routeKey]*lastRoute, n+1)
		if old != nil {
			for k, v := range *old {
				m[k] = v
			}
		}
		m[k] = &lastRoute{key: k, route: cr}
		if rt.routes.CompareAndSwap(old, &m) {
			return
		}
	}
}

// captures recycles the capture of a routed request (one allocation less
// per request).
var captures = sync.Pool{New: func() any { return new(capture) }}

// capture is the ResponseWriter Router hands to ServeMux: it records which
// handler matched, or the reply ServeMux wrote itself (404, 405, redirects).
type capture struct {
	h      Handler
	r      *nethttp.Request
	status int
	header nethttp.Header
	body   bytes.Buffer
}

// Header returns the captured header map.
func (c *capture) Header() nethttp.Header {
	if c.header == nil {
		c.header = make(nethttp.Header)
	}
	return c.header
}

// Write captures body bytes.
func (c *capture) Write(p []byte) (int, error) {
	if c.status == 0 {
		c.status = nethttp.StatusOK
	}
	return c.body.Write(p)
}

// WriteHeader captures the first status.
func (c *capture) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
}

func (c *capture) response() *Response {
	st := c.status
	if st == 0 {
		st = nethttp.StatusOK
	}
	h := c.header
	if h != nil {
		h.Del("Content-Length")
	}
	return &Response{Status: st, Header: h, Body: c.body.Bytes()}
}
