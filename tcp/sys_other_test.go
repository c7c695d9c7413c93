//go:build !linux

package tcp

import "golang.org/x/sys/unix"

// pollRDHUP: without POLLRDHUP, POLLHUP is the nearest event (tests run on
// Linux; this only lets them build elsewhere).
const pollRDHUP = unix.POLLHUP
