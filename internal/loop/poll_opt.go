//go:build poll_opt

package loop

// keepUntilBatchEnd is true under poll_opt: the kernel's event data holds a
// pointer to the FD's PollAttachment, invisible to the garbage collector,
// so a closed FD stays referenced until the batch it was closed in is over.
const keepUntilBatchEnd = true

// poll runs the poller; each event calls its PollAttachment's Callback.
func (l *Loop) poll() error { return l.poller.Polling() }
