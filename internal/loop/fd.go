package loop

import (
	"sync/atomic"

	"github.com/panjf2000/gnet/v2/pkg/netpoll"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/rawio"
	"github.com/goasync/goasync/internal/stats"
)

// Events is what the poller reported for a descriptor, the same on every
// OS: epoll's EPOLLIN/EPOLLOUT/EPOLLHUP/EPOLLERR and kqueue's filters and
// EV_EOF/EV_ERROR flags map onto these bits.
type Events uint8

// The event bits.
const (
	Readable Events = 1 << iota // bytes, a FIN or an error can be read
	Writable                    // the send buffer has room
	Hangup                      // the peer hung up (EPOLLHUP, EPOLLRDHUP, EV_EOF)
	Error                       // an error is pending on the socket
)

// Handler receives the events of a registered descriptor, on its loop.
type Handler interface {
	// OnEvent runs on the loop when the poller reports ev. It must not
	// block.
	OnEvent(ev Events)
	// OnLoopStop runs on the loop (or, once the loop has stopped, on the
	// goroutine stopping it) when the runtime shuts down: close the
	// descriptor and settle what waits on it.
	OnLoopStop()
}

// FD is a nonblocking descriptor registered on one loop. Its interest is
// turned on and off by its owner, who serializes the calls (a mutex or
// the loop); Register and Close run on the loop.
type FD struct {
	loop   *Loop
	fd     int
	h      Handler
	pa     netpoll.PollAttachment // referenced by the kernel under poll_opt
	closed atomic.Bool

	read, write bool // interest applied to the poller
	edge        bool // the registration is edge-triggered (epoll)
	registered  bool // known to the poller
	readAdded   bool // kqueue: the read filter exists
}

// Register puts fd on the loop with no interest yet. It must run on the
// loop. The FD owns fd from now on: Close closes it. fd must be
// nonblocking (socketNB, acceptNB and DialUDP make it so): the loop reads
// and writes it with raw system calls that keep its P (internal/rawio),
// and a blocking call there would stall every goroutine of that P.
func (l *Loop) Register(fd int, h Handler) *FD {
	f := &FD{}
	l.register(f, fd, h)
	return f
}

func (l *Loop) register(f *FD, fd int, h Handler) {
	f.loop, f.fd, f.h = l, fd, h
	f.pa.FD = fd
	if keepUntilBatchEnd { // poll_opt: the poller calls the attachment
		f.pa.Callback = f.onPoll
	}
	for fd >= len(l.fds) {
		n := max(64, 2*len(l.fds))
		grown := make([]*FD, n)
		copy(grown, l.fds)
		l.fds = grown
	}
	l.fds[fd] = f
	l.nfds++
	stats.Sockets.Add(1)
}

// Fd returns the descriptor number (-1 once closed).
func (f *FD) Fd() int {
	if f.closed.Load() {
		return -1
	}
	return f.fd
}

// Read is read(2) on the descriptor, which is nonblocking: EAGAIN when
// nothing is there, EBADF once closed. On Linux it is a raw system call,
// which keeps the loop's P (see internal/rawio).
func (f *FD) Read(p []byte) (int, error) { return rawio.Read(f.Fd(), p) }

// Write is write(2) on the descriptor, like Read.
func (f *FD) Write(p []byte) (int, error) { return rawio.Write(f.Fd(), p) }

// Loop returns the loop the descriptor is registered on.
func (f *FD) Loop() *Loop { return f.loop }

// SetInterest turns read and write readiness reports on or off. It must
// run on the loop. Reports are level-triggered unless edge is set, which
// makes the whole registration edge-triggered with hang-ups reported
// (EPOLLET|EPOLLRDHUP; kqueue's read filter is always edge-triggered, see
// edgeRead): a paused reader watches for the peer's FIN or reset that
// way, once, without reading. The handler gets every event and ignores
// what it did not ask for.
func (f *FD) SetInterest(read, write, edge bool) error {
	if f.closed.Load() {
		return unix.EBADF
	}
	edge = edge && read
	if read == f.read && write == f.write && edge == f.edge {
		return nil
	}
	err := f.apply(read, write, edge)
	if err == nil {
		f.read, f.write, f.edge = read, write, edge
	}
	return err
}

// Close removes the descriptor from the poller and closes it. It must run
// on the loop (or, once the loop has exited, anywhere: see Execute).
func (f *FD) Close() error {
	if f.closed.Swap(true) {
		return nil
	}
	stats.Sockets.Add(-1)
	f.release()
	l := f.loop
	if l.gone() {
		// The loop has exited: its tables are not touched any more.
		return unix.Close(f.fd)
	}
	if f.fd < len(l.fds) && l.fds[f.fd] == f {
		l.fds[f.fd] = nil
		l.nfds--
	}
	if keepUntilBatchEnd {
		l.bury(f)
	}
	return unix.Close(f.fd)
}

// onPoll is the PollAttachment callback (poll_opt builds).
func (f *FD) onPoll(_ int, ev netpoll.IOEvent, flags netpoll.IOFlags) error {
	f.dispatch(ev, flags)
	return nil
}

// dispatch hands one poller event to the handler.
func (f *FD) dispatch(ev netpoll.IOEvent, flags netpoll.IOFlags) {
	if f.closed.Load() {
		return // a stale event of the batch the descriptor was closed in
	}
	e := decode(ev, flags)
	if e == 0 {
		return
	}
	f.loop.session()
	if perr := future.Protect(func() { f.h.OnEvent(e) }); perr != nil {
		f.loop.rt.logger().Error("goasync loop: panic in an event handler",
			zap.Int("fd", f.fd), zap.Any("panic", perr.Value), zap.ByteString("stack", perr.Stack))
	}
}
