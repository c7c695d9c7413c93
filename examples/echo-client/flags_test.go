package main

import (
	"testing"

	"github.com/goasync/goasync/examples/internal/extest"
)

func TestHelpExitsZero(t *testing.T) { extest.CheckHelp(t, "echo-client", "-host", "-port", "-window") }
