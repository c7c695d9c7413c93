// Package runtime runs goasync's sockets on gnet v2 event loops.
//
// A Runtime owns one gnet client engine (outbound connections, enrolled
// after a non-blocking connect), any number of gnet server engines (one per
// Listen), and a small epoll poller that tells the tcp layer when a socket
// becomes writable again. It marks every loop goroutine with
// internal/loopmark, so future.Await fails fast there, and it keeps the
// process-wide counters of internal/stats.
//
// Every callback of a connection's Handler runs on that connection's loop.
// LoopExecutor hands work back to that loop from anywhere. When a Runtime
// shuts down, every future it owns settles: pending dials reject with
// ErrClosed, open connections get OnClose, and the poller's waiters are told
// through their stop hooks.
package runtime
