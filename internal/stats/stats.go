// Package stats keeps the library's live counters.
//
// Every counter is a process-wide atomic; packages bump them on their own
// events and goasync.ReadStats exposes a snapshot. Keeping them here, below
// every other package, lets future/ and timer/ count without importing the
// runtime.
package stats

import "sync/atomic"

// Counters of the whole library. Gauges go up and down; totals only go up.
var (
	Loops          atomic.Int64 // gauge: running event loops
	ConnsIn        atomic.Int64 // gauge: open accepted tcp/unix sockets, OnConnect to OnClose (half-open included)
	ConnsOut       atomic.Int64 // gauge: open connected tcp/unix sockets, same meaning; DNS query sockets are not counted
	Sockets        atomic.Int64 // gauge: descriptors registered on the event loops (connections, listeners, DNS query sockets)
	Timers         atomic.Int64 // gauge: armed timers
	PendingFutures atomic.Int64 // gauge: root promises (New, Go, timers) not yet settled; derived futures are not counted
	AcceptedTotal  atomic.Int64 // total: tcp/unix sockets accepted
	DialedTotal    atomic.Int64 // total: tcp/unix sockets connected
	ClosedTotal    atomic.Int64 // total: tcp/unix sockets closed, either side
	BytesRead      atomic.Int64 // total: bytes read from sockets
	BytesWritten   atomic.Int64 // total: bytes written to sockets
)

// Snapshot is a point-in-time copy of the counters.
type Snapshot struct {
	Loops          int64
	ConnsIn        int64
	ConnsOut       int64
	Sockets        int64
	Timers         int64
	PendingFutures int64
	AcceptedTotal  int64
	DialedTotal    int64
	ClosedTotal    int64
	BytesRead      int64
	BytesWritten   int64
}

// Read returns a snapshot of every counter. Counters are read one by one, so
// a snapshot taken under load is not one atomic cut across all of them.
func Read() Snapshot {
	return Snapshot{
		Loops:          Loops.Load(),
		ConnsIn:        ConnsIn.Load(),
		ConnsOut:       ConnsOut.Load(),
		Sockets:        Sockets.Load(),
		Timers:         Timers.Load(),
		PendingFutures: PendingFutures.Load(),
		AcceptedTotal:  AcceptedTotal.Load(),
		DialedTotal:    DialedTotal.Load(),
		ClosedTotal:    ClosedTotal.Load(),
		BytesRead:      BytesRead.Load(),
		BytesWritten:   BytesWritten.Load(),
	}
}
