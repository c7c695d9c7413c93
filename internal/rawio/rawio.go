// Package rawio reads and writes nonblocking descriptors with raw system
// calls on Linux (ordinary ones elsewhere), for the event loops.
//
// A raw system call does not tell the Go scheduler that the thread is in
// the kernel, so the goroutine keeps its P through the call. That is right
// only for calls that return at once, which read, write and writev on a
// nonblocking descriptor do; used on a blocking descriptor they would stall
// every goroutine of the P. The loops need it because with unix.Read and
// unix.Write the P was marked "in a system call": when the kernel preempted
// the loop's thread inside one (a machine with other work), the runtime's
// monitor (sysmon) took the P, woke another thread that had nothing to run
// (the loop is one goroutine), and kept polling every 20 µs. An HTTP server
// sharing its CPU with a busy process lost 13% (keep-alive) and 19%
// (pipelined) of its requests per CPU-second against running alone; with
// raw calls it loses 3% and 4% (docs/architecture.md).
//
// The package is apart from the loop layer because it needs unsafe (a
// buffer's address for the kernel), and no file that imports gnet or the
// loop layer may import unsafe (TestNoReachIntoGnet). The race detector
// does not see these calls write the buffers; a loop's buffers are touched
// by its goroutine only.
package rawio
