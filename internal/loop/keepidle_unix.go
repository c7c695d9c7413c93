//go:build linux || freebsd || dragonfly || netbsd || openbsd

package loop

import "golang.org/x/sys/unix"

// tcpKeepIdle is the option for the idle time before the first keep-alive
// probe.
const tcpKeepIdle = unix.TCP_KEEPIDLE
