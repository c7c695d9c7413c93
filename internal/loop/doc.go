// Package loop is goasync's event-loop layer, built on the public poller of
// gnet v2 (github.com/panjf2000/gnet/v2/pkg/netpoll: epoll on Linux, kqueue
// on macOS and the BSDs).
//
// A Runtime owns N loops. Each loop is one netpoll.Poller driven by one
// goroutine marked with internal/loopmark (so future.Await fails fast
// there); on Linux it is locked to its OS thread only in sessions, while
// it runs callbacks and tasks, not while it polls (Loop.enter). A loop
// offers:
//
//   - a task queue (Execute, on the poller's Trigger): the loop's
//     future.Executor, FIFO, safe from any goroutine;
//   - timers (AfterFunc): a per-loop heap whose callbacks run on the loop,
//     woken by one lazily re-armed time.Timer per loop;
//   - registration of any nonblocking descriptor (FD) with read and write
//     interest that its owner turns on and off;
//   - stream connections (Conn) on top of FD: reads into one buffer per
//     loop, nonblocking writes, half-close with shutdown(2) on the one
//     descriptor, Abort with SO_LINGER 0, read pause that keeps TCP flow
//     control (read interest off);
//   - nonblocking dial (Dial) and listeners (Listen) with a connection cap,
//     SO_REUSEPORT per loop or one acceptor handing connections round-robin,
//     and survival of accept failures (EMFILE) with a timed back-off.
//
// Everything that runs on a loop must not block. Every panic that reaches
// the loop (a task, a timer, an event handler) is recovered with
// future.Protect and logged; the loop goes on.
//
// Counters (internal/stats): ConnsIn and ConnsOut count open stream
// sockets (TCP and unix) from the moment they are connected or accepted
// until their descriptor is closed, half-open sockets included. Sockets
// registered with Register (a DNS query's UDP socket) are not connections.
//
// Under gnet's poll_opt build tag the poller stores a pointer to the FD's
// PollAttachment in the kernel's event data; every registered FD is kept
// reachable from its loop until its descriptor is closed and the loop has
// finished the batch of events it was in.
package loop
