package tcp

import "github.com/goasync/goasync/internal/stats"

// Stats is a snapshot of the package's counters (cl-async's stats and
// conserv's byte counters): sockets open now and totals since start. They
// are the library's one set of connection counters, the same numbers
// goasync.ReadStats reports.
type Stats struct {
	// Incoming counts accepted sockets open now: from OnConnect until
	// OnClose, half-open ones included (a socket whose peer half-closed
	// and which is still writing is open).
	Incoming int64
	// Outgoing counts connected sockets open now, with the same meaning.
	// DNS query sockets are not connections and are not counted.
	Outgoing     int64
	Accepted     int64 // sockets accepted since start
	Dialed       int64 // sockets connected since start
	BytesRead    int64 // bytes received by all sockets
	BytesWritten int64 // bytes handed to the kernel by all sockets
}

// ReadStats returns the current counters. They are read one by one, so a
// snapshot under load is not one atomic cut.
func ReadStats() Stats {
	s := stats.Read()
	return Stats{
		Incoming:     s.ConnsIn,
		Outgoing:     s.ConnsOut,
		Accepted:     s.AcceptedTotal,
		Dialed:       s.DialedTotal,
		BytesRead:    s.BytesRead,
		BytesWritten: s.BytesWritten,
	}
}
