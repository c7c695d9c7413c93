package http

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	nethttp "net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/goasync/goasync/future"
)

// collect follows a chain of futures made by next until it rejects; each
// step runs where the previous future settled (an event loop), never
// blocking a goroutine.
func collect[T any](next func() *future.Future[T]) *future.Future[[]T] {
	p := future.New[[]T]()
	var got []T
	var step func()
	step = func() {
		next().OnComplete(func(v T, err error) {
			if err != nil {
				if errors.Is(err, io.EOF) {
					p.Resolve(got)
				} else {
					p.Reject(err)
				}
				return
			}
			got = append(got, v)
			step()
		})
	}
	step()
	return p.Future()
}

// Go's server writes events in awkward pieces (a CRLF split between
// writes, comments, ids, multi-line data); the EventStream read from this
// package's Client gets every event, without a blocking read.
func TestEventStreamFromGoServer(t *testing.T) {
	pieces := []string{
		": hello\r\n", "data: one\r", "\n\r\n", "id: 7\nevent: tick\ndata: two\n", "data: lines\n",
		"\n", "retry: 1500\ndata", ": three\r\r", "data: partial never ended",
	}
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, _ *nethttp.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, p := range pieces {
			io.WriteString(w, p)
			w.(nethttp.Flusher).Flush()
			time.Sleep(5 * time.Millisecond)
		}
	}))
	defer srv.Close()
	c := newClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := c.Get(ctx, srv.URL).Await(ctx)
	if err != nil {
		t.Fatal(err)
	}
	es := NewEventStream(resp)
	got, err := collect(es.Next).Await(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []Event{
		{Data: "one"},
		{ID: "7", Event: "tick", Data: "two\nlines"},
		{ID: "7", Data: "three", Retry: 1500 * time.Millisecond},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("events\n got %+v\nwant %+v", got, want)
	}
}

// NextChunk follows an 8 MiB chunked body chunk by chunk; the bytes are
// intact.
func TestNextChunkReadsAStreamedBody(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 512<<10)
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, _ *nethttp.Request) {
		for off := 0; off < len(body); off += 100 << 10 {
			w.Write(body[off:min(off+100<<10, len(body))])
			w.(nethttp.Flusher).Flush()
		}
	}))
	defer srv.Close()
	c := newClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := c.Get(ctx, srv.URL).Await(ctx)
	if err != nil {
		t.Fatal(err)
	}
	chunks, err := collect(func() *future.Future[[]byte] { return NextChunk(resp) }).Await(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := bytes.Join(chunks, nil); sha256.Sum256(got) != sha256.Sum256(body) {
		t.Fatalf("got %d bytes in %d chunks, want %d intact", len(got), len(chunks), len(body))
	}
	if _, err := NextChunk(resp).Await(ctx); !errors.Is(err, io.EOF) {
		t.Fatalf("after the end: %v", err)
	}
}

// FuzzEventStreamSplits: events parsed from bytes fed in arbitrary pieces
// equal EventReader's over the whole input.
func FuzzEventStreamSplits(f *testing.F) {
	f.Add([]byte("data: a\r\n\r\nid: 1\ndata: b\ndata: c\n\n: x\rdata: d\r\r"), []byte{1, 3, 2})
	f.Add([]byte("\n\n\r\n\rdata\n\nevent: e\n\ndata: z"), []byte{5})
	f.Fuzz(func(t *testing.T, in []byte, splits []byte) {
		var want []Event
		ref := NewEventReader(bytes.NewReader(in))
		for {
			ev, err := ref.Next()
			if err != nil {
				break
			}
			want = append(want, ev)
		}
		s := NewEventStream(nil)
		var got []Event
		off := 0
		for i := 0; off < len(in); i++ {
			n := len(in) - off
			if len(splits) > 0 {
				n = min(n, int(splits[i%len(splits)])%17+1)
			}
			s.feed.add(in[off : off+n])
			off += n
			for {
				ev, err := s.er.Next()
				if err == errNeedMore {
					break
				}
				if err != nil {
					t.Fatalf("parse error %v", err)
				}
				got = append(got, ev)
			}
		}
		if !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Fatalf("split parse\n got %+v\nwant %+v", got, want)
		}
	})
}
