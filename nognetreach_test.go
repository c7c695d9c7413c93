package goasync_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestNoReachIntoGnet enforces that goasync uses gnet only through its
// public API: no non-test source of the module uses go:linkname, and no
// file that imports gnet or the loop layer (internal/loop) imports reflect
// or unsafe. (http's typed parameters use reflect on the user's own
// structs, and its head parser's arena makes strings of its own bytes with
// unsafe.String, in files far from gnet.) An upgrade of gnet can then
// break the build, never corrupt memory.
func TestNoReachIntoGnet(t *testing.T) {
	fset := token.NewFileSet()
	checked := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != "." {
				if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
					return filepath.SkipDir // another module (bench/)
				}
			}
			if strings.HasPrefix(d.Name(), ".") && path != "." {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(src), "go:linkname") {
			t.Errorf("%s: go:linkname", path)
		}
		f, err := parser.ParseFile(fset, path, src, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		var gnet, refl, uns bool
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			switch {
			case p == "unsafe":
				uns = true
			case p == "reflect":
				refl = true
			case strings.HasPrefix(p, "github.com/panjf2000/gnet"), p == "github.com/goasync/goasync/internal/loop":
				gnet = true
			}
		}
		if strings.HasPrefix(filepath.ToSlash(path), "internal/loop/") {
			gnet = true
		}
		if gnet && refl {
			t.Errorf("%s imports gnet (or the loop layer) and reflect", path)
		}
		if gnet && uns {
			t.Errorf("%s imports gnet (or the loop layer) and unsafe", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("checked only %d files: the walk is wrong", checked)
	}
}
