package dns

import (
	"errors"
	"net/netip"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/loop"
	"github.com/goasync/goasync/internal/loopmark"
)

// loopTransport runs exchanges on the event loops of a goasync runtime:
// one new socket per exchange (a fresh, kernel-randomised source port for
// every UDP query), made nonblocking and registered straight on a loop
// (no net.Conn, no dup), with its timeout on a loop timer. The exchange
// runs on the loop of the caller when it is one of the runtime's loops,
// else on the runtime's first loop (home); a query socket is not a
// connection for the counters.
//
// The source address check of the spoofing defence is the kernel's: a
// connected UDP socket only receives datagrams whose source is the address it
// is connected to; everything else is dropped before it reaches the loop.
type loopTransport struct {
	rt func() *loop.Runtime
	in handoff // lookups from outside the loops, to home
}

func newRuntimeTransport() *loopTransport {
	return &loopTransport{rt: loop.Default}
}

// errClosedEarly is the error of an exchange whose socket closed before a
// reply arrived, without a more precise reason.
var errClosedEarly = errors.New("connection closed before a reply arrived")

// home returns the loop that runs the caller's queries: the caller's own
// loop when it runs on one of the runtime's loops (onLoop), else the
// runtime's first loop. Every query from outside the loops goes to that
// one loop, where the replies and lookups of a turn share one poll and
// one task: spread round-robin over both loops of the 2-core benchmark
// machine, 64 lookups in flight were 1.2-1.4x slower (docs/dns.md, "Which
// loop does the work").
func (t *loopTransport) home() (l *loop.Loop, onLoop bool) {
	return t.homeOf(loopmark.Current())
}

// homeOf is home for a caller known to run on the loop cur (curOK) or on
// none (loopmark.Current's answer).
func (t *loopTransport) homeOf(cur loopmark.Executor, curOK bool) (l *loop.Loop, onLoop bool) {
	rt := t.rt()
	if l, ok := cur.(*loop.Loop); curOK && ok && l.Runtime() == rt {
		return l, true
	}
	return rt.Loop(0), false
}

// exchangeSink receives what an exchange gets, on its loop: every message
// that arrives (checked: errIgnore drops it and the exchange keeps waiting
// over UDP) and, once, the outcome.
type exchangeSink interface {
	exchangeCheck(msg []byte) (reply, error)
	exchangeDone(rep reply, err error)
}

// exchange is one query on one socket; it is the socket's loop.Handler.
// It is touched on its loop only.
type exchange struct {
	l       *loop.Loop
	sink    exchangeSink
	query   []byte
	tcp     bool
	server  netip.AddrPort
	timeout time.Duration

	f          *loop.FD
	timer      *loop.Timer
	connecting bool
	wrote      int
	in         []byte // TCP: the reply so far
	done       bool
}

func (x *exchange) start() {
	if x.done {
		return
	}
	if !x.tcp {
		x.startUDP()
		return
	}
	f, inProgress, err := x.l.Connect("tcp", x.server, x)
	if err != nil {
		x.finish(reply{}, err)
		return
	}
	x.f = f
	x.timer = x.l.AfterFunc(x.timeout, x.expire)
	if inProgress {
		x.connecting = true
		x.interest(false, true)
		return
	}
	x.send()
}

// startUDP makes the query's socket, connected to the server, sends the
// query and waits for the reply.
func (x *exchange) startUDP() {
	fd, err := loop.DialUDP(x.server)
	if err == nil {
		x.f, err = x.l.Adopt(fd, x)
	}
	if err != nil {
		x.finish(reply{}, err)
		return
	}
	x.timer = x.l.AfterFunc(x.timeout, x.expire)
	x.send()
}

func (x *exchange) interest(read, write bool) {
	if err := x.f.SetInterest(read, write, false); err != nil {
		x.finish(reply{}, err)
	}
}

// send writes what is left of the query, then waits for the reply.
func (x *exchange) send() {
	for x.wrote < len(x.query) {
		n, err := x.f.Write(x.query[x.wrote:])
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			x.interest(false, true)
			return
		case err != nil:
			x.finish(reply{}, os.NewSyscallError("write", err))
			return
		}
		x.wrote += n
	}
	x.interest(true, false)
}

// OnEvent implements loop.Handler.
func (x *exchange) OnEvent(e loop.Events) {
	if x.done {
		return
	}
	if x.connecting {
		if err := x.f.SocketError(); err != nil {
			x.finish(reply{}, err)
			return
		}
		x.connecting = false
		x.send()
		return
	}
	if x.wrote < len(x.query) {
		if e&(loop.Writable|loop.Error|loop.Hangup) != 0 {
			x.send()
		}
		return
	}
	if e&(loop.Readable|loop.Hangup|loop.Error) != 0 {
		if x.tcp {
			x.readStream()
		} else {
			x.readDatagrams()
		}
	}
}

// readDatagrams checks every datagram that arrived. Datagrams that are not
// our reply are ignored (spoofing defence).
func (x *exchange) readDatagrams() {
	buf := x.l.Buffer()
	for !x.done {
		n, ok := x.readOnce(buf)
		if !ok {
			return
		}
		rep, err := x.sink.exchangeCheck(buf[:n])
		if err == errIgnore {
			continue // not our reply: keep waiting
		}
		x.finish(rep, err)
	}
}

// readOnce reads what the socket holds into buf. It reports false when
// nothing is left to read now (EAGAIN) or the read failed, which finishes
// the exchange; 0 bytes with true is a stream's FIN.
func (x *exchange) readOnce(buf []byte) (int, bool) {
	for {
		n, err := x.f.Read(buf)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return 0, false
		case err != nil:
			x.finish(reply{}, os.NewSyscallError("read", err))
			return 0, false
		}
		return n, true
	}
}

// readStream reads the first length-prefixed message of the stream.
func (x *exchange) readStream() {
	buf := x.l.Buffer()
	for !x.done {
		n, ok := x.readOnce(buf)
		if !ok {
			return
		}
		if n == 0 {
			x.finish(reply{}, errClosedEarly)
			return
		}
		x.in = append(x.in, buf[:n]...)
		if len(x.in) < 2 {
			continue
		}
		size := int(x.in[0])<<8 | int(x.in[1])
		if len(x.in) < 2+size {
			continue
		}
		rep, err := x.sink.exchangeCheck(x.in[2 : 2+size])
		x.finish(rep, err)
	}
}

// OnLoopStop implements loop.Handler: the runtime stops.
func (x *exchange) OnLoopStop() { x.finish(reply{}, loop.ErrClosed) }

// expire is the timeout (a loop timer).
func (x *exchange) expire() { x.finish(reply{}, future.ErrTimeout) }

// abort runs on the loop when the caller cancelled the exchange.
func (x *exchange) abort() { x.finish(reply{}, future.ErrCanceled) }

// finish settles the exchange once and releases its socket. Loop only.
func (x *exchange) finish(rep reply, err error) {
	if x.done {
		return
	}
	x.done = true
	if x.timer != nil {
		x.timer.Stop()
	}
	if x.f != nil {
		_ = x.f.Close()
	}
	x.in = nil
	x.sink.exchangeDone(rep, err)
}
