package tcp

import "github.com/goasync/goasync/internal/stats"

// Stats is a snapshot of the package's counters (cl-async's stats and
// conserv's byte counters): sockets open now and totals since start. They
// are the runtime's counters (goasync.ReadStats shows the same numbers): a
// socket counts as open from connect or accept until its descriptor is
// closed, half-open sockets included; DNS query sockets are not counted.
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
		Incoming:     stats.ConnsIn.Load(),
		Outgoing:     stats.ConnsOut.Load(),
		Accepted:     stats.AcceptedTotal.Load(),
		Dialed:       stats.DialedTotal.Load(),
		BytesRead:    stats.BytesRead.Load(),
		BytesWritten: stats.BytesWritten.Load(),
	}
}
