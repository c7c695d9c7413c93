package http

import (
	"errors"
	"io"
	nethttp "net/http"

	"github.com/goasync/goasync/future"
)

// ErrBodyPending rejects a NextChunk (or EventStream.Next) asked for while
// another one is still pending on the same body.
var ErrBodyPending = errors.New("http: a NextChunk is already pending on this body")

// NextChunk returns a future of the next bytes of resp's body: all that
// has arrived and was not read yet (at least one byte), without blocking
// any goroutine, so an event loop can consume a streamed body chunk by
// chunk. At the end of the body it rejects with io.EOF; if the body failed,
// with its error. One NextChunk may be pending at a time (a second one
// rejects with ErrBodyPending). It mixes with Read (bytes go to whichever
// asks first) but not with ReadAll. Bodies that do not come from this
// package's Client are read on the blocking-work pool, up to 32 KiB at a
// time.
func NextChunk(resp *nethttp.Response) *future.Future[[]byte] {
	b, ok := resp.Body.(*clientBody)
	if !ok {
		return future.Go(func() ([]byte, error) {
			buf := make([]byte, 32<<10)
			n, err := resp.Body.Read(buf)
			if n > 0 {
				return buf[:n], nil
			}
			if err == nil {
				err = io.ErrNoProgress
			}
			return nil, err
		})
	}
	b.mu.Lock()
	switch {
	case b.closed || b.collecting:
		b.mu.Unlock()
		return future.Rejected[[]byte](ErrBodyClosed)
	case b.waiter != nil:
		b.mu.Unlock()
		return future.Rejected[[]byte](ErrBodyPending)
	}
	p := future.New[[]byte]()
	b.waiter = p
	p.OnCancel(func(error) {
		b.mu.Lock()
		if b.waiter == p {
			b.waiter = nil
		}
		b.mu.Unlock()
	})
	var w *future.Promise[[]byte]
	var data []byte
	if b.size > 0 || b.done {
		w, data = b.takeWaiterLocked()
	}
	done, err := b.done, b.err
	resume := b.paused && b.size < bodyLow
	if resume {
		b.paused = false
	}
	b.mu.Unlock()
	if resume {
		b.cc.sock.Resume()
	}
	if w != nil {
		if done && len(data) == 0 {
			settleWaiter(w, nil, err)
		} else {
			w.Resolve(data)
		}
	}
	return p.Future()
}

// takeWaiterLocked hands a pending NextChunk everything buffered; it
// returns nil when none waits or nothing is buffered and the body goes on.
func (b *clientBody) takeWaiterLocked() (*future.Promise[[]byte], []byte) {
	w := b.waiter
	if w == nil || (b.size == 0 && !b.done) {
		return nil, nil
	}
	b.waiter = nil
	var data []byte
	if b.size > 0 {
		data = b.joined() // owned by the body: given away
		clear(b.bufs)
		b.bufs, b.size = b.bufs[:0], 0
	}
	return w, data
}

// settleWaiter settles a NextChunk at the end of the body: with the last
// bytes if some were left, else io.EOF or the body's error.
func settleWaiter(w *future.Promise[[]byte], data []byte, err error) {
	switch {
	case w == nil:
	case len(data) > 0:
		w.Resolve(data)
	case err != nil:
		w.Reject(err)
	default:
		w.Reject(io.EOF)
	}
}
