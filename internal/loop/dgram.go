package loop

import (
	"net"
	"net/netip"
	"os"

	"golang.org/x/sys/unix"
)

// DialUDP makes a nonblocking, close-on-exec UDP socket connected to raddr
// (socket(2) and connect(2), neither of which waits on the network: a UDP
// connect only picks the route and a fresh, kernel-randomised local port).
// It runs on any goroutine. The descriptor is not registered anywhere yet:
// hand it to a loop with Adopt, or close it with unix.Close.
//
// Being connected, the socket receives only datagrams whose source is
// raddr (the kernel drops the rest) and reports the peer's ICMP errors
// (ECONNREFUSED on the next read).
func DialUDP(raddr netip.AddrPort) (int, error) {
	family, sa := inetSockaddr(raddr)
	fd, err := socketNB(family, unix.SOCK_DGRAM)
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	err = connect(fd, sa)
	if err != nil {
		unix.Close(fd)
		return -1, os.NewSyscallError("connect", err)
	}
	return fd, nil
}

// Adopt registers fd (from DialUDP, say) on l with h and no interest yet,
// like Register. When the loop is stopping it closes fd instead and
// returns ErrClosed. It must run on the loop.
func (l *Loop) Adopt(fd int, h Handler) (*FD, error) {
	if l.stopping.Load() {
		unix.Close(fd)
		return nil, ErrClosed
	}
	return l.Register(fd, h), nil
}

// inetSockaddr converts an IP address and port to a socket address
// without going through text.
func inetSockaddr(ap netip.AddrPort) (family int, sa unix.Sockaddr) {
	ip := ap.Addr()
	if ip.Is4() || ip.Is4In6() {
		return unix.AF_INET, &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ip.Unmap().As4()}
	}
	sa6 := &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ip.As16()}
	if z := ip.Zone(); z != "" {
		if ifi, err := net.InterfaceByName(z); err == nil {
			sa6.ZoneId = uint32(ifi.Index)
		}
	}
	return unix.AF_INET6, sa6
}
