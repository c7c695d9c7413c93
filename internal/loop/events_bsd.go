//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package loop

import (
	"github.com/panjf2000/gnet/v2/pkg/netpoll"
	"golang.org/x/sys/unix"
)

// edgeRead is true on kqueue: netpoll exports no call that removes a read
// filter (its Delete is a no-op there; closing the descriptor removes the
// filters), so the read filter is added once, edge-triggered (EV_CLEAR),
// and "read interest off" means readable events are ignored. An ignored
// event is not lost: turning reads back on reads at once (Conn), and a
// reader reads until the buffer is not filled.
const edgeRead = true

// decode turns a kevent (filter, flags) into Events.
func decode(ev netpoll.IOEvent, flags netpoll.IOFlags) Events {
	var e Events
	switch ev {
	case unix.EVFILT_READ:
		e |= Readable
	case unix.EVFILT_WRITE:
		e |= Writable
	}
	if flags&unix.EV_EOF != 0 {
		e |= Hangup
	}
	if flags&unix.EV_ERROR != 0 {
		e |= Error
	}
	return e
}

// apply adds the read filter the first time reads are wanted and adds or
// deletes the write filter (netpoll's AddWrite and ModRead).
func (f *FD) apply(read, write, _ bool) error {
	p := f.loop.poller
	pa := &f.pa
	if read && !f.readAdded {
		if err := p.AddRead(pa, true); err != nil {
			return err
		}
		f.readAdded = true
		f.registered = true
	}
	if write != f.write {
		if write {
			if err := p.AddWrite(pa, false); err != nil {
				return err
			}
			f.registered = true
		} else if err := p.ModRead(pa, false); err != nil {
			return err
		}
	}
	return nil
}

// release: kqueue drops the filters of a descriptor when it is closed.
func (f *FD) release() { f.registered = false }
