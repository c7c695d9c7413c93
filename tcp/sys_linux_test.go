//go:build linux

package tcp

import "golang.org/x/sys/unix"

// pollRDHUP is poll(2)'s peer-hang-up event.
const pollRDHUP = unix.POLLRDHUP
