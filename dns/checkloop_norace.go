//go:build !race

package dns

// checkLoops: see checkloop_race.go.
const checkLoops = false
