package loop

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// sockaddr parses network ("tcp", "tcp4", "tcp6", "udp", "udp4", "udp6",
// "unix") and addr (an IP literal with a port, empty host allowed when
// listening; a path for unix) into a socket family and address.
func sockaddr(network, addr string, listen bool) (family int, sa unix.Sockaddr, err error) {
	if network == "unix" {
		if addr == "" {
			return 0, nil, errors.New("empty unix socket path")
		}
		return unix.AF_UNIX, &unix.SockaddrUnix{Name: addr}, nil
	}
	if !strings.HasPrefix(network, "tcp") && !strings.HasPrefix(network, "udp") {
		return 0, nil, fmt.Errorf("unsupported network %q", network)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, nil, err
	}
	pn, err := net.LookupPort(network, port) // numeric ports only: no lookup for digits
	if err != nil {
		return 0, nil, err
	}
	v4only := strings.HasSuffix(network, "4")
	v6only := strings.HasSuffix(network, "6")
	if host == "" {
		if !listen {
			return 0, nil, errors.New("missing host")
		}
		if v4only {
			return unix.AF_INET, &unix.SockaddrInet4{Port: pn}, nil
		}
		return unix.AF_INET6, &unix.SockaddrInet6{Port: pn}, nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return 0, nil, fmt.Errorf("address must be an IP literal: %w", err)
	}
	if ip.Is4() || ip.Is4In6() {
		if v6only && !ip.Is4In6() {
			return 0, nil, errors.New("not an IPv6 address")
		}
		if !v6only {
			return unix.AF_INET, &unix.SockaddrInet4{Port: pn, Addr: ip.Unmap().As4()}, nil
		}
	}
	if v4only {
		return 0, nil, errors.New("not an IPv4 address")
	}
	sa6 := &unix.SockaddrInet6{Port: pn, Addr: ip.As16()}
	if z := ip.Zone(); z != "" {
		if ifi, err := net.InterfaceByName(z); err == nil {
			sa6.ZoneId = uint32(ifi.Index)
		}
	}
	return unix.AF_INET6, sa6, nil
}

// toAddr converts a socket address to a net.Addr of the stream kind.
func toAddr(sa unix.Sockaddr, udp bool) net.Addr {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		ip := net.IP(append([]byte(nil), a.Addr[:]...))
		if udp {
			return &net.UDPAddr{IP: ip, Port: a.Port}
		}
		return &net.TCPAddr{IP: ip, Port: a.Port}
	case *unix.SockaddrInet6:
		ip := net.IP(append([]byte(nil), a.Addr[:]...))
		zone := ""
		if a.ZoneId != 0 {
			if ifi, err := net.InterfaceByIndex(int(a.ZoneId)); err == nil {
				zone = ifi.Name
			}
		}
		if udp {
			return &net.UDPAddr{IP: ip, Port: a.Port, Zone: zone}
		}
		return &net.TCPAddr{IP: ip, Port: a.Port, Zone: zone}
	case *unix.SockaddrUnix:
		return &net.UnixAddr{Name: a.Name, Net: "unix"}
	}
	return nil
}

// addrPort converts an IP socket address; anything else gives the zero
// AddrPort.
func addrPort(sa unix.Sockaddr) netip.AddrPort {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
	case *unix.SockaddrInet6:
		ip := netip.AddrFrom16(a.Addr)
		if a.ZoneId != 0 {
			if ifi, err := net.InterfaceByIndex(int(a.ZoneId)); err == nil {
				ip = ip.WithZone(ifi.Name)
			}
		}
		return netip.AddrPortFrom(ip, uint16(a.Port))
	}
	return netip.AddrPort{}
}

// sockAddrPort returns fd's address from get (Getsockname, Getpeername).
func sockAddrPort(fd int, get func(int) (unix.Sockaddr, error)) netip.AddrPort {
	sa, err := get(fd)
	if err != nil {
		return netip.AddrPort{}
	}
	return addrPort(sa)
}

// localAddr returns fd's local address.
func localAddr(fd int, udp bool) net.Addr {
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return nil
	}
	return toAddr(sa, udp)
}

// newSocket makes a nonblocking close-on-exec socket; TCP sockets
// get TCP_NODELAY.
func newSocket(family, typ int) (int, error) {
	fd, err := socketNB(family, typ)
	if err != nil {
		return -1, err
	}
	if family != unix.AF_UNIX && typ == unix.SOCK_STREAM {
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	}
	return fd, nil
}

// Connect makes a nonblocking socket of network ("udp", "udp4", "udp6",
// "tcp", "tcp4", "tcp6") connected, or connecting, to raddr, and registers
// it on l with h and no interest yet. inProgress reports a stream connect
// still under way: wait for Writable, then check SocketError. A UDP
// connect finishes at once (it only picks the route and a local port).
// Such sockets are not connections for the counters (a DNS query's
// socket). It must run on the loop.
func (l *Loop) Connect(network string, raddr netip.AddrPort, h Handler) (f *FD, inProgress bool, err error) {
	if l.stopping.Load() {
		return nil, false, ErrClosed
	}
	typ := unix.SOCK_STREAM
	if strings.HasPrefix(network, "udp") {
		typ = unix.SOCK_DGRAM
	}
	family, sa, err := sockaddr(network, raddr.String(), false)
	if err != nil {
		return nil, false, err
	}
	fd, err := newSocket(family, typ)
	if err != nil {
		return nil, false, os.NewSyscallError("socket", err)
	}
	err = connect(fd, sa)
	switch err {
	case nil:
	case unix.EINPROGRESS:
		inProgress = true
	default:
		unix.Close(fd)
		return nil, false, os.NewSyscallError("connect", err)
	}
	return l.Register(fd, h), inProgress, nil
}

// SocketError returns (and clears) the socket's pending error, nil if none.
func (f *FD) SocketError() error {
	errno, err := unix.GetsockoptInt(f.fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return os.NewSyscallError("getsockopt", err)
	}
	if errno != 0 {
		return os.NewSyscallError("connect", unix.Errno(errno))
	}
	return nil
}

// connect starts connecting fd to sa, retrying when a signal interrupts
// the call.
func connect(fd int, sa unix.Sockaddr) error {
	for {
		if err := unix.Connect(fd, sa); err != unix.EINTR {
			return err
		}
	}
}
