package timer

import "syscall"

func errRefusedSyscall() error { return syscall.ECONNREFUSED }
