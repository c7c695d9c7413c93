package tutorial_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every Go snippet of docs/tutorial.md is quoted verbatim, at some
// indentation, from this package's examples or from an example program,
// so every snippet compiles and runs under go test.
func TestTutorialQuotesRealCode(t *testing.T) {
	doc, err := os.ReadFile("../../docs/tutorial.md")
	if err != nil {
		t.Fatal(err)
	}
	sources := []string{"example_test.go"}
	mains, _ := filepath.Glob("../*/main.go")
	sources = append(sources, mains...)
	var code []string
	for _, p := range sources {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		code = append(code, string(b))
	}
	blocks := regexp.MustCompile("(?s)```go\n(.*?)\n```").FindAllStringSubmatch(string(doc), -1)
	if len(blocks) < 10 {
		t.Fatalf("found %d Go snippets in the tutorial; expected more", len(blocks))
	}
	for _, m := range blocks {
		if !quoted(m[1], code) {
			t.Errorf("this snippet of docs/tutorial.md is not in the examples' code:\n%s", m[1])
		}
	}
}

func quoted(block string, code []string) bool {
	lines := strings.Split(block, "\n")
	for indent := 0; indent < 4; indent++ {
		shifted := make([]string, len(lines))
		for i, l := range lines {
			if l != "" {
				l = strings.Repeat("\t", indent) + l
			}
			shifted[i] = l
		}
		want := strings.Join(shifted, "\n")
		for _, c := range code {
			if strings.Contains(c, want) {
				return true
			}
		}
	}
	return false
}
