package runtime

import (
	"os"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"
)

// gnet v2.10.0 reads every connection whenever it is readable and offers
// no call to stop: a socket that its owner paused would have to buffer
// whatever the peer sends. What it does not hide is that each event loop
// watches its connections in an epoll set of its own, level-triggered,
// with EPOLLIN|EPOLLPRI, and changes that registration only when gnet's
// own output buffer is used (the tcp package never uses it: it writes to
// the descriptor itself). So reads can be stopped the way the kernel
// offers: EPOLL_CTL_MOD the descriptor to no events in that set, and back
// to EPOLLIN|EPOLLPRI to resume (only EPOLLRDHUP stays on while paused).
// The peer then meets TCP flow control instead of an unbounded buffer.
//
// The loop's epoll descriptor is not exported by gnet: it is read once per
// loop from gnet's unexported fields (conn.loop.poller.fd) and checked
// against /proc/self/fdinfo, which must list the connection's descriptor
// in that epoll set. If anything differs (another gnet version, another
// OS) the lookup fails and callers fall back to buffering.

// readEvents is what gnet registers for a connection (level-triggered).
const readEvents = unix.EPOLLIN | unix.EPOLLPRI

var loopEpoll sync.Map // gnet.EventLoop -> int (epoll fd, or -1)

// ReadPauser stops and restarts gnet's reading of one connection.
type ReadPauser struct {
	epfd, fd int
}

// NewReadPauser returns a pauser for c, or nil when gnet's epoll set cannot
// be found (reads then cannot be stopped). Call it on c's loop, from a
// callback (c must be open and registered).
func NewReadPauser(c gnet.Conn) *ReadPauser {
	el := c.EventLoop()
	if el == nil {
		return nil
	}
	fd := c.Fd()
	if v, ok := loopEpoll.Load(el); ok {
		if epfd := v.(int); epfd >= 0 {
			return &ReadPauser{epfd: epfd, fd: fd}
		}
		return nil
	}
	epfd := gnetEpollFD(c)
	if epfd >= 0 && !epollWatches(epfd, fd) {
		epfd = -1
	}
	loopEpoll.Store(el, epfd)
	if epfd < 0 {
		return nil
	}
	return &ReadPauser{epfd: epfd, fd: fd}
}

// SetReading turns gnet's read events for the connection on or off. It
// must run on the connection's loop while gnet still owns the descriptor
// (before OnClose): the loop is where gnet closes it, so the descriptor
// cannot be closed and its number reused by another connection meanwhile.
//
// Off leaves EPOLLRDHUP on, so the peer's FIN (or a reset) is still seen at
// once: gnet then closes its conn without reading, and the caller must
// read what the kernel still holds before the descriptor is closed (the
// tcp package does, in OnClose).
func (p *ReadPauser) SetReading(on bool) error {
	var ev uint32 = unix.EPOLLRDHUP
	if on {
		ev = readEvents
	}
	return os.NewSyscallError("epoll_ctl mod",
		unix.EpollCtl(p.epfd, unix.EPOLL_CTL_MOD, p.fd, &unix.EpollEvent{Fd: int32(p.fd), Events: ev}))
}

// gnetEpollFD reads conn.loop.poller.fd from gnet's unexported fields, or
// returns -1 when they are not shaped as in gnet v2.10.0.
func gnetEpollFD(c gnet.Conn) (fd int) {
	defer func() {
		if recover() != nil {
			fd = -1
		}
	}()
	v := reflect.ValueOf(c)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return -1
	}
	loop := v.Elem().FieldByName("loop")
	if loop.Kind() != reflect.Pointer || loop.IsNil() {
		return -1
	}
	poller := loop.Elem().FieldByName("poller")
	if poller.Kind() != reflect.Pointer || poller.IsNil() {
		return -1
	}
	f := poller.Elem().FieldByName("fd")
	if f.Kind() != reflect.Int {
		return -1
	}
	return int(f.Int())
}

// epollWatches reports whether /proc/self/fdinfo says that epoll set epfd
// watches fd for EPOLLIN. Its lines look like
// "tfd:       12 events:       2003 data: ...".
func epollWatches(epfd, fd int) bool {
	b, err := os.ReadFile("/proc/self/fdinfo/" + strconv.Itoa(epfd))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 4 && f[0] == "tfd:" && f[1] == strconv.Itoa(fd) && f[2] == "events:" {
			ev, err := strconv.ParseUint(f[3], 16, 32)
			return err == nil && ev&unix.EPOLLIN != 0
		}
	}
	return false
}
