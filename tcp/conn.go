package tcp

import (
	"github.com/panjf2000/gnet/v2"
)

// connHandler is a Socket seen as the runtime's per-connection Handler
// (outbound sockets); a type of its own keeps those methods off Socket's
// API.
type connHandler Socket

func (h *connHandler) OnOpen(c gnet.Conn)                { (*Socket)(h).open(c) }
func (h *connHandler) OnTraffic(c gnet.Conn) gnet.Action { return (*Socket)(h).onTraffic(c) }
func (h *connHandler) OnClose(c gnet.Conn, err error)    { (*Socket)(h).onClose(c, err) }
