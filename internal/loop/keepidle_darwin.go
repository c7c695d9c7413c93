//go:build darwin

package loop

import "golang.org/x/sys/unix"

// tcpKeepIdle is the option for the idle time before the first keep-alive
// probe (TCP_KEEPALIVE on Darwin).
const tcpKeepIdle = unix.TCP_KEEPALIVE
