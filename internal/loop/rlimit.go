package loop

import "golang.org/x/sys/unix"

// DefaultMaxConns returns a connection cap below the process's soft
// descriptor limit: the limit minus a reserve of a tenth (at least 64) for
// everything else the process opens. Without a usable limit it is 1<<20.
func DefaultMaxConns() int {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		return 1 << 20
	}
	cur := uint64(rl.Cur) // int64 on some BSDs; RLIM_INFINITY is huge either way
	if cur > 1<<20 {
		return 1 << 20
	}
	limit := int(cur)
	reserve := max(64, limit/10)
	if limit-reserve < 1 {
		return 1
	}
	return limit - reserve
}

// Unwrap returns the loop runtime behind a public goasync.Runtime (the
// root package installs it; nil for nil or anything else).
var Unwrap = func(any) *Runtime { return nil }
