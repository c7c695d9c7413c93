package http

import (
	"io"
	"sync"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/loopmark"
)

// bodyBuf is a body that an event loop fills and a goroutine reads: the
// client's response bodies and the server's streamed request bodies. The
// loop appends buffers it hands over (under mu) and pauses its socket when
// too much waits; Read takes them in order, blocking while there are none.
type bodyBuf struct {
	mu     sync.Mutex
	bufs   [][]byte
	size   int
	done   bool  // no more bytes will come (err says why; nil at the end)
	err    error // why the body failed, if it did
	closed bool  // the reader closed it: bytes are dropped
	paused bool  // the producer's socket is paused for the reader
	notify chan struct{}
}

// signal wakes a Read waiting on ch (the body's notify, read under its
// lock); nil means nobody waits.
func signal(ch chan struct{}) {
	if ch == nil {
		return
	}
	select {
	case ch <- struct{}{}:
	default:
	}
}

// read copies buffered bytes into p, waiting for some while there are
// none. resume reports that the producer's socket was paused and the
// buffer has fallen below low: the caller resumes it. It blocks, so on an
// event loop it fails with future.ErrAwaitOnLoop instead of waiting.
func (q *bodyBuf) read(p []byte, low int) (n int, resume bool, err error) {
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return 0, false, ErrBodyClosed
		}
		if len(q.bufs) > 0 {
			for n < len(p) && len(q.bufs) > 0 {
				m := copy(p[n:], q.bufs[0])
				n += m
				if m == len(q.bufs[0]) {
					q.bufs[0] = nil
					q.bufs = q.bufs[1:]
				} else {
					q.bufs[0] = q.bufs[0][m:]
				}
			}
			q.size -= n
			resume = q.paused && q.size < low
			if resume {
				q.paused = false
			}
			q.mu.Unlock()
			return n, resume, nil
		}
		if q.done {
			err := q.err
			q.mu.Unlock()
			if err == nil {
				err = io.EOF
			}
			return 0, false, err
		}
		if loopmark.Active() && loopmark.OnLoop() {
			q.mu.Unlock()
			return 0, false, future.ErrAwaitOnLoop
		}
		if q.notify == nil {
			q.notify = make(chan struct{}, 1)
		}
		ch := q.notify
		q.mu.Unlock()
		<-ch
	}
}
