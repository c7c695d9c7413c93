package http

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func TestEventEncoding(t *testing.T) {
	cases := []struct {
		ev   Event
		wire string
	}{
		{Event{Data: "hello"}, "data: hello\n\n"},
		{Event{Data: "a\nb\r\nc\rd"}, "data: a\ndata: b\ndata: c\ndata: d\n\n"},
		{Event{Data: "x\n"}, "data: x\ndata: \n\n"},
		{Event{ID: "7\nevent: evil", Event: "chat\r\n", Data: "d", Retry: 1500 * time.Millisecond}, "id: 7event: evil\nevent: chat\nretry: 1500\ndata: d\n\n"},
		{Event{}, "data: \n\n"},
	}
	for _, c := range cases {
		if got := string(c.ev.AppendTo(nil)); got != c.wire {
			t.Errorf("%+v: %q want %q", c.ev, got, c.wire)
		}
	}
}

func TestEventReaderRoundTrip(t *testing.T) {
	evs := []Event{
		{Data: "one"},
		{Event: "chat", Data: "multi\nline\ndata", ID: "2"},
		{Data: "retry", Retry: 3 * time.Second},
		{Data: ""},
	}
	var wire []byte
	for _, e := range evs {
		wire = e.AppendTo(wire)
	}
	// Comments, CR-only and CRLF line ends, and an unterminated tail.
	wire = append(wire, ": comment\r\nevent: x\rdata: crlf\r\n\r\ndata: lost"...)
	er := NewEventReader(strings.NewReader(string(wire)))
	want := []Event{
		{Data: "one"},
		{Event: "chat", Data: "multi\nline\ndata", ID: "2"},
		{Data: "retry", ID: "2", Retry: 3 * time.Second},
		{Data: "", ID: "2", Retry: 3 * time.Second},
		{Event: "x", Data: "crlf", ID: "2", Retry: 3 * time.Second},
	}
	for i, w := range want {
		got, err := er.Next()
		if err != nil || got != w {
			t.Fatalf("event %d: %+v %v, want %+v", i, got, err, w)
		}
	}
	if _, err := er.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("end: %v", err)
	}
}

func FuzzEventRoundTrip(f *testing.F) {
	f.Add("id", "ev", "data\nmore", int64(10))
	f.Add("", "", "\r\r\n\n", int64(0))
	f.Fuzz(func(t *testing.T, id, name, data string, retry int64) {
		ev := Event{ID: id, Event: name, Data: data, Retry: time.Duration(retry%100000) * time.Millisecond}
		er := NewEventReader(strings.NewReader(string(ev.AppendTo(nil))))
		got, err := er.Next()
		if err != nil {
			t.Fatalf("%+v: %v", ev, err)
		}
		wantData := strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(data)
		if got.Data != wantData {
			t.Fatalf("data %q want %q", got.Data, wantData)
		}
		if got.Event != fieldCleaner.Replace(name) || (got.ID != fieldCleaner.Replace(id) && strings.ContainsRune(id, 0) == false) {
			t.Fatalf("%+v from %+v", got, ev)
		}
		if ev.Retry.Milliseconds() > 0 && got.Retry != time.Duration(ev.Retry.Milliseconds())*time.Millisecond {
			t.Fatalf("retry %v want %v", got.Retry, ev.Retry)
		}
	})
}

func FuzzEventReader(f *testing.F) {
	f.Add("data: a\n\n: c\r\nid: 1\rdata: b\r\n\r\n")
	f.Fuzz(func(t *testing.T, in string) {
		er := NewEventReader(strings.NewReader(in))
		for range len(in) + 1 {
			if _, err := er.Next(); err != nil {
				return
			}
		}
		t.Fatalf("more events than bytes")
	})
}
