package future

import (
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
)

// Resolving program counters to names is the dearest part of a traced
// step; the same call sites come back for every pipeline, so the answers
// are kept (bounded by the program's code size).
var (
	funcNames sync.Map // uintptr -> string
	sites     sync.Map // [10]uintptr -> string
)

// funcPC returns the entry of the function value fn, or 0.
func funcPC(fn any) uintptr {
	if fn == nil {
		return 0
	}
	v := reflect.ValueOf(fn)
	if v.Kind() != reflect.Func || v.IsNil() {
		return 0
	}
	return v.Pointer()
}

// funcName is the short name of the function at pc: its package's last
// path element and the function, "main.fetch.func2" or "strconv.Atoi".
func funcName(pc uintptr) string {
	if v, ok := funcNames.Load(pc); ok {
		return v.(string)
	}
	n := funcNameOf(pc)
	funcNames.Store(pc, n)
	return n
}

func funcNameOf(pc uintptr) string {
	f := runtime.FuncForPC(pc)
	if f == nil {
		return "?"
	}
	n := f.Name()
	if i := strings.LastIndexByte(n, '/'); i >= 0 {
		n = n[i+1:]
	}
	return n
}

// callers fills pcs with the return addresses above skip frames of its
// caller.
func callers(skip int, pcs []uintptr) {
	runtime.Callers(skip+2, pcs)
}

// libraryPrefix is where goasync's packages live; their frames are not
// where a user made a future.
const libraryPrefix = "github.com/goasync/goasync/"

func libraryFrame(fr runtime.Frame) bool {
	if strings.HasSuffix(fr.File, "_test.go") {
		return false
	}
	rest, ok := strings.CutPrefix(fr.Function, libraryPrefix)
	if !ok {
		return strings.HasPrefix(fr.Function, "runtime.")
	}
	for _, p := range [...]string{"future.", "timer.", "tcp.", "dns.", "http.", "internal/"} {
		if strings.HasPrefix(rest, p) {
			return true
		}
	}
	return false
}

// siteOf returns "file.go:line" of the first frame in pcs outside
// goasync's packages (the user's code that made the future), or "" when
// all of them are inside (a step made by a timer or a loop callback).
func siteOf(pcs *[10]uintptr) string {
	if v, ok := sites.Load(*pcs); ok {
		return v.(string)
	}
	s := resolveSite(pcs[:])
	sites.Store(*pcs, s)
	return s
}

func resolveSite(pcs []uintptr) string {
	n := 0
	for n < len(pcs) && pcs[n] != 0 {
		n++
	}
	if n == 0 {
		return ""
	}
	frames := runtime.CallersFrames(pcs[:n])
	for {
		fr, more := frames.Next()
		if fr.PC != 0 && !libraryFrame(fr) && fr.File != "" {
			return filepath.Base(fr.File) + ":" + strconv.Itoa(fr.Line)
		}
		if !more {
			return ""
		}
	}
}
