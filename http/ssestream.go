package http

import (
	"bufio"
	"errors"
	"io"
	nethttp "net/http"
	"sync"

	"github.com/goasync/goasync/future"
)

// EventStream reads server-sent events from a response without blocking:
// Next returns a future of the next event, so an event loop can follow an
// event stream without future.Go. It parses as EventReader does (WHATWG
// rules, 1 MiB line limit, the last event ID kept between events).
type EventStream struct {
	resp *nethttp.Response

	mu      sync.Mutex
	feed    eventFeed
	er      *EventReader
	pending bool
}

// NewEventStream returns a non-blocking reader of the events in resp's
// body (typically from Client.Get of a text/event-stream URL).
func NewEventStream(resp *nethttp.Response) *EventStream {
	s := &EventStream{resp: resp, feed: eventFeed{start: true}}
	s.er = &EventReader{r: bufio.NewReader(&s.feed), max: 1 << 20}
	return s
}

// errNeedMore is eventFeed's answer when no complete event is buffered.
var errNeedMore = errors.New("http: event stream needs more bytes")

// Next returns a future of the next event. At the end of the body it
// rejects with io.EOF (a last event without its blank line is dropped, as
// the standard says); if the body failed, with its error. One Next may be
// pending at a time (another rejects with ErrBodyPending).
func (s *EventStream) Next() *future.Future[Event] {
	s.mu.Lock()
	if s.pending {
		s.mu.Unlock()
		return future.Rejected[Event](ErrBodyPending)
	}
	s.pending = true
	s.mu.Unlock()
	p := future.New[Event]()
	s.step(p)
	return p.Future()
}

// step parses a buffered event for p, or asks the body for more bytes and
// comes back when they arrive.
func (s *EventStream) step(p *future.Promise[Event]) {
	s.mu.Lock()
	ev, err := s.er.Next()
	if err != errNeedMore {
		s.pending = false
		s.mu.Unlock()
		if err != nil {
			p.Reject(err)
		} else {
			p.Resolve(ev)
		}
		return
	}
	s.mu.Unlock()
	chunk := NextChunk(s.resp)
	p.OnCancel(func(cause error) {
		chunk.Cancel(cause)
		s.mu.Lock()
		s.pending = false
		s.mu.Unlock()
	})
	chunk.OnComplete(func(data []byte, err error) {
		if err != nil {
			s.mu.Lock()
			s.pending = false
			s.mu.Unlock()
			p.Reject(err) // io.EOF at the end, else the body's error
			return
		}
		s.mu.Lock()
		s.feed.add(data)
		s.mu.Unlock()
		s.step(p)
	})
}

// eventFeed holds the body's bytes for the EventReader and lets it read
// only up to the end of the last complete event (a blank line), so a
// parse never stops inside an event: when it asks for more, it is between
// events and has lost nothing.
type eventFeed struct {
	buf   []byte
	off   int  // read so far
	limit int  // end of the last blank line seen
	scan  int  // scanned so far
	start bool // the scan is at the start of a line
	cr    bool // the scan's last byte was a CR
}

func (f *eventFeed) add(p []byte) {
	if f.off == len(f.buf) { // all read (so up to a blank line): start over
		f.buf, f.off, f.scan, f.limit = f.buf[:0], 0, 0, 0
	}
	f.buf = append(f.buf, p...)
	for ; f.scan < len(f.buf); f.scan++ {
		c := f.buf[f.scan]
		if f.cr && c == '\n' { // the LF of a CRLF
			f.cr = false
			continue
		}
		f.cr = false
		if c == '\r' || c == '\n' {
			if f.start {
				f.limit = f.scan + 1 // a blank line: an event (or nothing) ends
			}
			f.start, f.cr = true, c == '\r'
			continue
		}
		f.start = false
	}
}

func (f *eventFeed) Read(p []byte) (int, error) {
	if f.off >= f.limit {
		return 0, errNeedMore
	}
	n := copy(p, f.buf[f.off:f.limit])
	f.off += n
	return n, nil
}

var _ io.Reader = (*eventFeed)(nil)
