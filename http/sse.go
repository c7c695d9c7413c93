package http

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"
)

// Event is one server-sent event (the WHATWG EventSource format).
type Event struct {
	// ID sets the client's last event ID (CR, LF and NUL are removed).
	ID string
	// Event is the event type; empty means "message" (CR and LF are
	// removed).
	Event string
	// Data is the payload; each of its lines becomes a "data:" line.
	Data string
	// Retry, when positive, tells the client how long to wait before
	// reconnecting.
	Retry time.Duration
}

var fieldCleaner = strings.NewReplacer("\r", "", "\n", "", "\x00", "")

// AppendTo appends the wire form of e to dst: optional id, event and retry
// lines, one data line per line of Data (CRLF, CR and LF all split lines),
// and the blank line that dispatches the event.
func (e Event) AppendTo(dst []byte) []byte {
	if e.ID != "" {
		dst = append(dst, "id: "...)
		dst = append(dst, fieldCleaner.Replace(e.ID)...)
		dst = append(dst, '\n')
	}
	if e.Event != "" {
		dst = append(dst, "event: "...)
		dst = append(dst, fieldCleaner.Replace(e.Event)...)
		dst = append(dst, '\n')
	}
	if e.Retry > 0 {
		dst = append(dst, "retry: "...)
		dst = strconv.AppendInt(dst, e.Retry.Milliseconds(), 10)
		dst = append(dst, '\n')
	}
	data := e.Data
	for {
		i := strings.IndexAny(data, "\r\n")
		if i < 0 {
			break
		}
		dst = append(dst, "data: "...)
		dst = append(dst, data[:i]...)
		dst = append(dst, '\n')
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			i++
		}
		data = data[i+1:]
	}
	dst = append(dst, "data: "...)
	dst = append(dst, data...)
	return append(dst, '\n', '\n')
}

// MarshalText returns the wire form of e.
func (e Event) MarshalText() ([]byte, error) { return e.AppendTo(nil), nil }

// ErrEventTooLong is returned by EventReader for a line longer than its
// limit.
var ErrEventTooLong = errors.New("http: server-sent event too long")

// EventReader reads server-sent events from a stream, following the
// WHATWG parsing rules: lines end in CRLF, LF or CR; comments (":") are
// skipped; "data" lines are joined with LF; an event is dispatched at a
// blank line when it has data; the last event ID persists between events.
type EventReader struct {
	r       *bufio.Reader
	max     int
	lastID  string
	retry   time.Duration
	pending bool // a CR ended the last line; skip an LF that follows
}

// NewEventReader returns a reader of the events in r. Lines longer than
// 1 MiB fail with ErrEventTooLong.
func NewEventReader(r io.Reader) *EventReader {
	return &EventReader{r: bufio.NewReader(r), max: 1 << 20}
}

func (er *EventReader) readLine() (string, error) {
	var line []byte
	for {
		if er.pending {
			b, err := er.r.Peek(1)
			if err != nil {
				return "", err
			}
			er.pending = false
			if b[0] == '\n' {
				er.r.Discard(1)
			}
		}
		buf, _ := er.r.Peek(er.r.Buffered())
		if len(buf) == 0 {
			if _, err := er.r.Peek(1); err != nil {
				if err == io.EOF && len(line) > 0 {
					err = io.ErrUnexpectedEOF
				}
				return "", err
			}
			continue
		}
		i := bytes.IndexAny(buf, "\r\n")
		if i < 0 {
			line = append(line, buf...)
			er.r.Discard(len(buf))
			if len(line) > er.max {
				return "", ErrEventTooLong
			}
			continue
		}
		line = append(line, buf[:i]...)
		er.pending = buf[i] == '\r'
		er.r.Discard(i + 1)
		if len(line) > er.max {
			return "", ErrEventTooLong
		}
		return string(line), nil
	}
}

// Next returns the next event. At the end of the stream it returns io.EOF
// (an event not terminated by a blank line is discarded, as the standard
// says).
func (er *EventReader) Next() (Event, error) {
	var data strings.Builder
	var ev Event
	has := false
	size := 0
	for {
		line, err := er.readLine()
		if err != nil {
			if err == io.ErrUnexpectedEOF {
				err = io.EOF
			}
			return Event{}, err
		}
		if line == "" {
			if !has {
				ev.Event = ""
				continue
			}
			ev.Data = strings.TrimSuffix(data.String(), "\n")
			ev.ID = er.lastID
			ev.Retry = er.retry
			return ev, nil
		}
		size += len(line)
		if size > er.max {
			return Event{}, ErrEventTooLong
		}
		name, value, found := strings.Cut(line, ":")
		if name == "" && found {
			continue // comment
		}
		if found {
			value = strings.TrimPrefix(value, " ")
		}
		switch name {
		case "data":
			data.WriteString(value)
			data.WriteByte('\n')
			has = true
		case "event":
			ev.Event = value
		case "id":
			if !strings.ContainsRune(value, 0) {
				er.lastID = value
			}
		case "retry":
			if ms, err := strconv.ParseUint(value, 10, 31); err == nil && value != "" && bytes.IndexFunc([]byte(value), func(r rune) bool { return r < '0' || r > '9' }) < 0 {
				er.retry = time.Duration(ms) * time.Millisecond
			}
		}
	}
}
