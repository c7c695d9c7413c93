//go:build race

package future

const raceOn = true
