package tutorial_test

import (
	"testing"

	"github.com/goasync/goasync/examples/internal/extest"
)

func TestMain(m *testing.M) { extest.Main(m) }
