package future

import (
	"errors"
	"strings"
	"testing"
)

func TestProtectReturnsPanicErrorWithStack(t *testing.T) {
	if perr := Protect(func() {}); perr != nil {
		t.Fatalf("no panic: got %v", perr)
	}
	perr := Protect(func() { panic("boom") })
	if perr == nil || perr.Value != "boom" || !errors.Is(perr, ErrPanic) {
		t.Fatalf("got %#v", perr)
	}
	if !strings.Contains(string(perr.Stack), "TestProtectReturnsPanicErrorWithStack") {
		t.Fatalf("stack does not name the panicking caller:\n%s", perr.Stack)
	}
}
