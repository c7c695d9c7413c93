package tcp

import "sync/atomic"

var (
	statIn           atomic.Int64
	statOut          atomic.Int64
	statAccepted     atomic.Int64
	statDialed       atomic.Int64
	statBytesRead    atomic.Int64
	statBytesWritten atomic.Int64
)

// Stats is a snapshot of the package's counters (cl-async's stats and
// conserv's byte counters): sockets open now and totals since start.
type Stats struct {
	Incoming     int64 // accepted sockets open now
	Outgoing     int64 // connected sockets open now
	Accepted     int64 // sockets accepted since start
	Dialed       int64 // sockets connected since start
	BytesRead    int64 // bytes received by all sockets
	BytesWritten int64 // bytes handed to the kernel by all sockets
}

// ReadStats returns the current counters. They are read one by one, so a
// snapshot under load is not one atomic cut.
func ReadStats() Stats {
	return Stats{
		Incoming:     statIn.Load(),
		Outgoing:     statOut.Load(),
		Accepted:     statAccepted.Load(),
		Dialed:       statDialed.Load(),
		BytesRead:    statBytesRead.Load(),
		BytesWritten: statBytesWritten.Load(),
	}
}
