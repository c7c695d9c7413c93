//go:build !poll_opt

package loop

import "github.com/panjf2000/gnet/v2/pkg/netpoll"

// keepUntilBatchEnd is false without poll_opt: events carry the descriptor
// number, looked up in the loop's table, never a pointer.
const keepUntilBatchEnd = false

// poll runs the poller; events are routed by descriptor number.
func (l *Loop) poll() error {
	return l.poller.Polling(func(fd int, ev netpoll.IOEvent, flags netpoll.IOFlags) error {
		if fd >= 0 && fd < len(l.fds) {
			if f := l.fds[fd]; f != nil {
				f.dispatch(ev, flags)
			}
		}
		return nil
	})
}
