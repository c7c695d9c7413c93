package dns

import (
	"context"
	"errors"
	"io"
	"net/netip"
	"sync"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/runtime"
)

// runtimeTransport runs exchanges on the event loops of a goasync runtime:
// one new connected socket per exchange (so a fresh, kernel-randomised
// source port for every UDP query), registered on a loop with runtime.Dial.
//
// The source address check of the spoofing defence is the kernel's: a
// connected UDP socket only receives datagrams whose source is the address it
// is connected to; everything else is dropped before it reaches the loop.
type runtimeTransport struct {
	rt func() *runtime.Runtime
}

func newRuntimeTransport() *runtimeTransport {
	return &runtimeTransport{rt: runtime.Default}
}

// errClosedEarly is the error of an exchange whose socket closed before a
// reply arrived, without a more precise reason.
var errClosedEarly = errors.New("connection closed before a reply arrived")

func (t *runtimeTransport) exchange(server netip.AddrPort, tcp bool, query []byte, timeout time.Duration, check func([]byte) (reply, error)) *future.Future[reply] {
	x := &exchange{p: future.New[reply](), query: query, check: check, tcp: tcp}
	network := "udp"
	if tcp {
		network = "tcp"
	}
	x.p.OnCancel(x.abort)
	x.mu.Lock()
	x.timer = time.AfterFunc(timeout, x.expire)
	x.mu.Unlock()
	df := t.rt().Dial(context.Background(), network, server.String(), x)
	x.mu.Lock()
	if x.finished {
		x.mu.Unlock()
		df.Cancel(nil) // aborts a dial still in progress; no-op once settled
	} else {
		x.dial = df
		x.mu.Unlock()
	}
	df.OnComplete(func(c gnet.Conn, err error) {
		if err != nil {
			x.finish(reply{}, err, nil)
		}
	})
	return x.p.Future()
}

// exchange is one query on one socket; it is the socket's runtime.Handler.
type exchange struct {
	p     *future.Promise[reply]
	query []byte
	check func([]byte) (reply, error)
	tcp   bool

	mu       sync.Mutex
	finished bool
	timer    *time.Timer
	conn     gnet.Conn
	dial     *future.Future[gnet.Conn]
}

// finish settles the exchange once. c, when not nil, is closed (the caller
// on the loop returns gnet.Close instead and passes nil).
func (x *exchange) finish(rep reply, err error, c gnet.Conn) bool {
	x.mu.Lock()
	if x.finished {
		x.mu.Unlock()
		return false
	}
	x.finished = true
	if x.timer != nil {
		x.timer.Stop()
	}
	x.mu.Unlock()
	if c != nil {
		_ = c.Close()
	}
	if err != nil {
		x.p.Reject(err)
	} else {
		x.p.Resolve(rep)
	}
	return true
}

// expire is the timeout; it runs on a timer goroutine and hands the work to
// the socket's loop when there is one.
func (x *exchange) expire() {
	x.mu.Lock()
	c, df := x.conn, x.dial
	x.mu.Unlock()
	if c == nil {
		if x.finish(reply{}, future.ErrTimeout, nil) && df != nil {
			df.Cancel(future.ErrTimeout)
		}
		return
	}
	runtime.LoopExecutor(c).Execute(func() { x.finish(reply{}, future.ErrTimeout, c) })
}

// abort runs when the caller cancels the exchange.
func (x *exchange) abort(error) {
	x.mu.Lock()
	x.finished = true
	if x.timer != nil {
		x.timer.Stop()
	}
	c, df := x.conn, x.dial
	x.mu.Unlock()
	if c != nil {
		_ = c.Close()
	}
	if df != nil {
		df.Cancel(nil)
	}
}

// OnOpen sends the query.
func (x *exchange) OnOpen(c gnet.Conn) {
	x.mu.Lock()
	x.conn = c
	done := x.finished
	x.mu.Unlock()
	if done {
		_ = c.Close()
		return
	}
	if _, err := c.Write(x.query); err != nil {
		x.finish(reply{}, err, c)
	}
}

// OnTraffic checks what arrived. Over UDP every datagram is one message and
// datagrams that are not our reply are ignored; over TCP the message is the
// first length-prefixed one on the stream.
func (x *exchange) OnTraffic(c gnet.Conn) gnet.Action {
	var msg []byte
	if x.tcp {
		n := c.InboundBuffered()
		if n < 2 {
			return gnet.None
		}
		hdr, _ := c.Peek(2)
		size := int(hdr[0])<<8 | int(hdr[1])
		if n < 2+size {
			return gnet.None
		}
		_, _ = c.Discard(2)
		msg, _ = c.Next(size)
	} else {
		msg, _ = c.Next(-1)
	}
	rep, err := x.check(msg)
	if err == errIgnore && !x.tcp {
		return gnet.None // not our reply: keep waiting (spoofing defence)
	}
	x.finish(rep, err, nil)
	return gnet.Close
}

// OnClose fails the exchange if no reply was accepted.
func (x *exchange) OnClose(_ gnet.Conn, err error) {
	if err == nil || err == io.EOF {
		err = errClosedEarly
	}
	x.finish(reply{}, err, nil)
}
