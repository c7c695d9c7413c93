package tcp

import (
	"fmt"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/logx"
)

// Relayed says how many bytes a Relay moved each way.
type Relayed struct {
	AToB int64 // bytes read from a and written to b
	BToA int64 // bytes read from b and written to a
}

// RelayError ends a Relay in which a side failed (a reset, a timeout, a
// full buffer, Abort, a cancelled relay): Side is "a" or "b", Err the
// failure, Relayed what was moved until then. The other side was reset.
type RelayError struct {
	Relayed
	Side string
	Err  error
}

func (e *RelayError) Error() string {
	return fmt.Sprintf("tcp relay: side %s failed after %d bytes a->b, %d bytes b->a: %v", e.Side, e.AToB, e.BToA, e.Err)
}

// Unwrap returns the failure.
func (e *RelayError) Unwrap() error { return e.Err }

// Relay copies bytes both ways between a and b until both directions have
// ended, the way a proxy joins its inbound and outbound sockets:
//
//   - Backpressure: when the destination's output queue passes its high
//     watermark (WithWatermarks), the source is paused (TCP flow control
//     holds its peer back) until the queue drains to the low watermark.
//   - Half-close: a peer's FIN on one side is passed on as CloseWrite on
//     the other, after every byte before it; the other direction goes on.
//   - Failure: when one side fails, the other is reset (Abort), so its peer
//     never takes a cut stream for a complete one.
//
// The future resolves with what was moved once both sockets closed
// cleanly, or rejects with a *RelayError. Cancelling it aborts both
// sockets. Relay takes over both sockets' handlers: their OnData, OnEOF
// and OnClose no longer run. Call it as soon as both are connected (in
// OnConnect, or in the continuation of Connect); bytes that arrived before
// are relayed first. A socket paused until its peer was connected (a
// proxy pauses the inbound socket in OnConnect) is resumed by Relay, which
// pauses and resumes both from then on.
func Relay(a, b *Socket) *future.Future[Relayed] {
	r := &relay{p: future.New[Relayed]()}
	r.ends[0] = relayEnd{r: r, name: "a", s: a, peer: b}
	r.ends[1] = relayEnd{r: r, name: "b", s: b, peer: a}
	r.p.OnCancel(func(cause error) {
		a.Abort()
		b.Abort()
	})
	for i := range r.ends {
		e := &r.ends[i]
		e.take()
	}
	if logx.Debug() {
		logx.L().Debug("tcp relay", zap.String("event", "start"), zap.Uint64("a", a.ID()), zap.Uint64("b", b.ID()))
	}
	return r.p.Future()
}

type relay struct {
	p    *future.Promise[Relayed]
	ends [2]relayEnd

	mu     sync.Mutex
	closed int
	side   string
	err    error
}

// relayEnd is one socket of a relay: it reads from s and writes to peer.
type relayEnd struct {
	r     *relay
	name  string
	s     *Socket
	peer  *Socket
	moved atomic.Int64
	h     Handler
}

// take installs the relay's handler on the socket, on its loop, and
// delivers what the socket holds already.
func (e *relayEnd) take() {
	e.h = Handler{
		BorrowData: true, // Write copies what the kernel does not take
		OnData:     e.data,
		OnEOF:      e.eof,
		OnClose:    e.close,
	}
	s := e.s
	s.lp.Execute(func() {
		s.mu.Lock()
		if s.state == stClosed {
			err := s.finalErr
			s.mu.Unlock()
			e.close(s, err)
			return
		}
		s.h = &e.h
		s.halfOpen = true
		s.paused = false // the relay pauses and resumes from now on
		s.mu.Unlock()
		s.deliver()
	})
}

func (e *relayEnd) data(src *Socket, data []byte) {
	dst := e.peer
	e.moved.Add(int64(len(data)))
	dst.Write(data) // a failed write closes dst: its close ends the relay
	w := dst.Writable()
	if _, _, ready := w.Result(); ready {
		return
	}
	src.Pause()
	if logx.Debug() {
		logx.L().Debug("tcp relay", zap.String("event", "backpressure: pausing a side until its peer drains"),
			zap.Uint64("paused", src.ID()), zap.Uint64("peer", dst.ID()), zap.Int("queued", dst.Buffered()))
	}
	w.OnComplete(func(struct{}, error) { src.Resume() })
}

func (e *relayEnd) eof(src *Socket) {
	if logx.Debug() {
		logx.L().Debug("tcp relay", zap.String("event", "half-close passed on"), zap.Uint64("from", src.ID()),
			zap.Uint64("to", e.peer.ID()))
	}
	e.peer.CloseWrite()
}

func (e *relayEnd) close(s *Socket, err error) {
	r := e.r
	r.mu.Lock()
	r.closed++
	first := err != nil && r.err == nil
	if first {
		r.err, r.side = err, e.name
	}
	done := r.closed == 2
	r.mu.Unlock()
	if first {
		e.peer.Abort()
	} else if err == nil && !done {
		// This side ended cleanly: both its directions are done, or it
		// was closed (Close); the other finishes what it has queued
		// and closes too.
		e.peer.Close()
	}
	if !done {
		return
	}
	moved := Relayed{AToB: r.ends[0].moved.Load(), BToA: r.ends[1].moved.Load()}
	if logx.Debug() {
		logx.L().Debug("tcp relay", zap.String("event", "end"), zap.Int64("a_to_b", moved.AToB),
			zap.Int64("b_to_a", moved.BToA), zap.Error(r.err))
	}
	if r.err != nil { // a no-op if the relay was cancelled
		r.p.Reject(&RelayError{Relayed: moved, Side: r.side, Err: r.err})
		return
	}
	r.p.Resolve(moved)
}
