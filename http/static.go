package http

import (
	"errors"
	"io/fs"
	nethttp "net/http"
	"os"
	"path"
	"strings"
)

// Files returns a handler that serves the files under dir, using the
// request path (see StripPrefix) as the file name. It can never serve
// anything outside dir: paths with ".." segments (after percent-decoding),
// backslashes or NUL are refused with 400, and every file is opened through
// an os.Root, which refuses names and symbolic links that lead out of the
// root. A directory is served as its index.html, if any; there are no
// directory listings. Files are read on the blocking-work pool with
// http.ServeContent, so Range, If-Modified-Since, HEAD and content types
// work as in net/http; large files stream (see Adapt).
func Files(dir string) (Handler, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return Adapt(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		serveFile(w, r, root)
	})), nil
}

func serveFile(w nethttp.ResponseWriter, r *nethttp.Request, root *os.Root) {
	if r.Method != nethttp.MethodGet && r.Method != nethttp.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		nethttp.Error(w, "405 method not allowed", nethttp.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	if strings.ContainsAny(p, "\\\x00") {
		nethttp.Error(w, "400 bad path", nethttp.StatusBadRequest)
		return
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			nethttp.Error(w, "400 bad path", nethttp.StatusBadRequest)
			return
		}
	}
	name := strings.TrimPrefix(path.Clean("/"+p), "/")
	if name == "" {
		name = "."
	}
	f, err := root.Open(name)
	if err != nil {
		fileError(w, err)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		fileError(w, err)
		return
	}
	if st.IsDir() {
		idx, err := root.Open(path.Join(name, "index.html"))
		if err != nil {
			fileError(w, err)
			return
		}
		defer idx.Close()
		if st, err = idx.Stat(); err != nil || st.IsDir() {
			nethttp.Error(w, "404 page not found", nethttp.StatusNotFound)
			return
		}
		f = idx
	}
	if !st.Mode().IsRegular() {
		nethttp.Error(w, "404 page not found", nethttp.StatusNotFound)
		return
	}
	nethttp.ServeContent(w, r, st.Name(), st.ModTime(), f)
}

func fileError(w nethttp.ResponseWriter, err error) {
	if errors.Is(err, fs.ErrPermission) {
		nethttp.Error(w, "403 forbidden", nethttp.StatusForbidden)
		return
	}
	// Not found, and also names that escape the root: say nothing more.
	nethttp.Error(w, "404 page not found", nethttp.StatusNotFound)
}
