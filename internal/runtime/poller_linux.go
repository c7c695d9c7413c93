package runtime

import (
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"
)

// poller is a small epoll set of its own that reports when a descriptor
// becomes writable. gnet's loops own their epoll sets and give no callback
// when a write buffer drains, so the tcp layer, which keeps its own output
// queue, asks here instead. One goroutine per runtime waits in epoll_wait.
type poller struct {
	epfd int
	evfd int

	mu      sync.Mutex
	seq     uint64
	watches map[uint64]*WriteWatch
	closed  bool
	done    chan struct{}
}

func newPoller() (*poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("goasync runtime: epoll_create1: %w", err)
	}
	evfd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("goasync runtime: eventfd: %w", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN}
	setToken(&ev, 0)
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, evfd, &ev); err != nil {
		unix.Close(epfd)
		unix.Close(evfd)
		return nil, fmt.Errorf("goasync runtime: epoll_ctl: %w", err)
	}
	p := &poller{epfd: epfd, evfd: evfd, watches: make(map[uint64]*WriteWatch), done: make(chan struct{})}
	go p.run()
	return p, nil
}

func setToken(ev *unix.EpollEvent, t uint64) {
	ev.Fd = int32(uint32(t))
	ev.Pad = int32(uint32(t >> 32))
}

func token(ev *unix.EpollEvent) uint64 {
	return uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
}

func (p *poller) run() {
	defer close(p.done)
	events := make([]unix.EpollEvent, 128)
	for {
		n, err := unix.EpollWait(p.epfd, events, -1)
		if err != nil {
			if err == unix.EINTR {
				continue
			}
			return
		}
		for i := 0; i < n; i++ {
			t := token(&events[i])
			if t == 0 {
				return // woken by close
			}
			p.mu.Lock()
			w := p.watches[t]
			p.mu.Unlock()
			if w != nil {
				w.fn()
			}
		}
	}
}

// close stops the goroutine and releases the descriptors. Watches still
// registered run their stop function so their owners can settle.
func (p *poller) close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.mu.Unlock()
	var one = [8]byte{1}
	_, _ = unix.Write(p.evfd, one[:])
	<-p.done
	unix.Close(p.epfd)
	unix.Close(p.evfd)
}

// ErrPollerClosed is returned by WriteWatch.Arm after the runtime stopped.
var ErrPollerClosed = errors.New("goasync runtime: write poller closed")

// WriteWatch reports, once per Arm, that a descriptor became writable (or
// failed: errors and hang-ups are reported too). fn runs on the poller's
// goroutine and must not block: it is meant to hand work to a loop.
//
// A WriteWatch is not safe for concurrent use; its owner serialises calls
// (the tcp socket does so under its lock).
type WriteWatch struct {
	p     *poller
	fn    func()
	token uint64
	fd    int
	added bool
}

// NewWriteWatch makes a watch whose notifications call fn.
func (r *Runtime) NewWriteWatch(fn func()) (*WriteWatch, error) {
	if err := r.start(); err != nil {
		return nil, err
	}
	p := r.poller
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrPollerClosed
	}
	p.seq++
	w := &WriteWatch{p: p, fn: fn, token: p.seq, fd: -1}
	p.watches[w.token] = w
	return w, nil
}

// Arm asks for one notification when fd is writable. Arming another fd
// moves the watch to it.
func (w *WriteWatch) Arm(fd int) error {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	if w.p.closed {
		return ErrPollerClosed
	}
	ev := unix.EpollEvent{Events: unix.EPOLLOUT | unix.EPOLLONESHOT}
	setToken(&ev, w.token)
	if w.added && w.fd == fd {
		return unix.EpollCtl(w.p.epfd, unix.EPOLL_CTL_MOD, fd, &ev)
	}
	if w.added {
		_ = unix.EpollCtl(w.p.epfd, unix.EPOLL_CTL_DEL, w.fd, nil)
		w.added = false
	}
	if err := unix.EpollCtl(w.p.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return err
	}
	w.fd, w.added = fd, true
	return nil
}

// Detach removes the descriptor from the poller. Call it before the
// descriptor is closed. The watch can be armed again later.
func (w *WriteWatch) Detach() {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	if w.added && !w.p.closed {
		_ = unix.EpollCtl(w.p.epfd, unix.EPOLL_CTL_DEL, w.fd, nil)
		w.added = false
		w.fd = -1
	}
}

// Release detaches the watch and forgets it for good.
func (w *WriteWatch) Release() {
	w.Detach()
	w.p.mu.Lock()
	w.added = false
	delete(w.p.watches, w.token)
	w.p.mu.Unlock()
}
