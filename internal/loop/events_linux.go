//go:build linux

package loop

import (
	"github.com/panjf2000/gnet/v2/pkg/netpoll"
	"golang.org/x/sys/unix"
)

// edgeRead is false on Linux: reads are level-triggered and read interest
// can be taken away entirely (EPOLL_CTL_DEL / MOD).
const edgeRead = false

// decode turns an epoll event mask into Events.
func decode(ev netpoll.IOEvent, _ netpoll.IOFlags) Events {
	var e Events
	if ev&(unix.EPOLLIN|unix.EPOLLPRI) != 0 {
		e |= Readable
	}
	if ev&unix.EPOLLOUT != 0 {
		e |= Writable
	}
	if ev&(unix.EPOLLHUP|unix.EPOLLRDHUP) != 0 {
		e |= Hangup
	}
	if ev&unix.EPOLLERR != 0 {
		e |= Error
	}
	return e
}

// apply moves the registration of f from its current interest to (read,
// write, edge) with the calls netpoll exports for epoll (their
// edgeTriggered flag adds EPOLLET|EPOLLRDHUP).
func (f *FD) apply(read, write, edge bool) error {
	p := f.loop.poller
	pa := &f.pa
	var err error
	switch {
	case !read && !write:
		if f.registered {
			err = p.Delete(f.fd)
			f.registered = false
		}
	case !f.registered:
		switch {
		case read && write:
			err = p.AddReadWrite(pa, edge)
		case read:
			err = p.AddRead(pa, edge)
		default:
			err = p.AddWrite(pa, false)
		}
		f.registered = err == nil
	case read && write:
		err = p.ModReadWrite(pa, edge)
	case read:
		err = p.ModRead(pa, edge)
	default: // write only, from read or read-write: epoll has no ModWrite
		if f.read || f.edge {
			if err = p.Delete(f.fd); err == nil {
				f.registered = false
				err = p.AddWrite(pa, false)
				f.registered = err == nil
			}
		}
	}
	return err
}

// release drops the registration before the descriptor is closed.
func (f *FD) release() {
	if f.registered {
		_ = f.loop.poller.Delete(f.fd)
		f.registered = false
	}
}
