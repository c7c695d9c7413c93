//go:build race

package http

const raceOn = true
