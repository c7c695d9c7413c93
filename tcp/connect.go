package tcp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/goasync/goasync/dns"
	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/internal/logx"
	"github.com/goasync/goasync/internal/loop"
)

// target is a parsed address.
type target struct {
	network string // "tcp" or "unix"
	host    string // host name or IP literal; the path for unix
	port    uint16
	ip      netip.Addr // valid when host is an IP literal
}

// parseAddr accepts "host:port", "[v6]:port" and "unix:///path".
func parseAddr(addr string) (target, error) {
	if rest, ok := strings.CutPrefix(addr, "unix://"); ok {
		if rest == "" {
			return target{}, errors.New("empty unix socket path")
		}
		return target{network: "unix", host: rest}, nil
	}
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return target{}, err
	}
	port, err := parsePort(portStr)
	if err != nil {
		return target{}, err
	}
	t := target{network: "tcp", host: host, port: port}
	if ip, err := netip.ParseAddr(host); err == nil {
		t.ip = ip
	}
	return t, nil
}

func parsePort(s string) (uint16, error) {
	if s == "" {
		return 0, errors.New("missing port")
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("invalid port %q", s)
		}
		n = n*10 + int(c-'0')
		if n > 65535 {
			return 0, fmt.Errorf("invalid port %q", s)
		}
	}
	return uint16(n), nil
}

// resolve looks up host's addresses of one family with the dns package
// (hosts file, resolv.conf, cache; queries run on the event loops). It is a
// variable so tests can swap it; it must not block the caller.
var resolve = func(ctx context.Context, host string, fam dns.Family, opts ...dns.Option) *future.Future[[]netip.Addr] {
	return future.Handle(dns.Lookup(ctx, host, append(opts, dns.WithFamily(fam))...), func(addrs []netip.Addr, err error) ([]netip.Addr, error) {
		if err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, ErrDNS) && ctx.Err() != nil {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %w", ErrDNS, err)
		}
		return addrs, nil
	})
}

// Connect opens a connection to addr ("host:port", "[v6]:port" or
// "unix:///path"). It never blocks the caller or a loop. Host names are
// resolved with the dns package, AAAA and A at once, and the addresses
// raced with Happy Eyeballs (RFC 8305: IPv6 first, interleaved, 250ms
// apart; connecting starts when the AAAA answer comes, or 50ms after the A
// answer if the AAAA one is late; see dns.HappyEyeballsLookup).
// The connect honours ctx and the connect timeout (WithConnectTimeout).
//
// The future resolves on the socket's loop, after the handler's OnConnect.
// Failures are *OpError values matching ErrRefused, ErrTimeout, ErrDNS, ...
func Connect(ctx context.Context, addr string, opts ...DialOption) *future.Future[*Socket] {
	cfg := newDialConfig(opts)
	t, err := parseAddr(addr)
	if err == nil && cfg.localErr != nil {
		err = fmt.Errorf("local address: %w", cfg.localErr)
	}
	if err != nil {
		err = opError("dial", addr, err)
		if logx.Debug() {
			logx.L().Debug("tcp connect failed", zap.String("addr", addr), zap.Error(err))
		}
		return future.Rejected[*Socket](err)
	}
	var traced func(*future.Future[*Socket]) *future.Future[*Socket]
	if future.Tracing() {
		ctx, traced = traceConnect(ctx, addr)
	}
	parent := ctx
	ctx, cancel := context.WithTimeoutCause(ctx, cfg.connectTimeout, errConnectTimeout)
	var f *future.Future[*Socket]
	switch {
	case t.network == "unix":
		f = dialOne(ctx, cfg, "unix", t.host, addr)
	case t.ip.IsValid():
		f = dialOne(ctx, cfg, "tcp", netip.AddrPortFrom(t.ip.Unmap(), t.port).String(), addr)
	default:
		f = dialHost(ctx, cfg, t.host, t.port, addr)
	}
	f = future.Handle(f, func(s *Socket, err error) (*Socket, error) {
		defer cancel() // after the cause was read
		if err == nil {
			return s, nil
		}
		timedOut := errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded)
		if timedOut && parent.Err() == nil && (context.Cause(ctx) == errConnectTimeout || ctx.Err() == nil && pastDeadline(ctx)) {
			// The connect timeout, not the caller's deadline: say so.
			op := "dial"
			var oe *OpError
			if errors.As(err, &oe) {
				op = oe.Op
			}
			err = &OpError{Op: op, Addr: addr, Err: errConnectTimeout}
		}
		if logx.Debug() {
			logx.L().Debug("tcp connect failed", zap.String("addr", addr), zap.Error(err))
		}
		return nil, err
	})
	if traced != nil {
		return traced(f)
	}
	return f
}

// pastDeadline reports whether ctx's deadline has passed (its timer may not
// have fired yet).
func pastDeadline(ctx context.Context) bool {
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d)
}

// errConnectTimeout ends a connect that took longer than its connect
// timeout; it matches ErrTimeout and context.DeadlineExceeded.
var errConnectTimeout error = &timeoutKind{which: "connect"}

// dialHost resolves host (AAAA and A at once) and connects to one of its
// addresses with Happy Eyeballs (RFC 8305, through the dns package): IPv6
// and IPv4 interleaved, the next attempt started after 250ms or as soon as
// one fails; a loser that connects anyway is aborted. A failed lookup is a
// "resolve" error matching ErrDNS, a failed connect a "dial" error.
func dialHost(ctx context.Context, cfg *config, host string, port uint16, addr string) *future.Future[*Socket] {
	var opts []dns.Option
	if cfg.resolver != nil {
		opts = append(opts, dns.WithResolver(cfg.resolver))
	}
	// A local address of one family can reach only that family.
	none := future.Resolved[[]netip.Addr](nil)
	v6, v4 := none, none
	if !cfg.local.IsValid() || cfg.local.Addr().Is6() && !cfg.local.Addr().Is4In6() {
		v6 = resolve(ctx, host, dns.FamilyV6, opts...)
	}
	if !cfg.local.IsValid() || cfg.local.Addr().Is4() || cfg.local.Addr().Is4In6() {
		v4 = resolve(ctx, host, dns.FamilyV4, opts...)
	}
	f := dns.HappyEyeballsLookup(ctx, v6, v4, func(ctx context.Context, ip netip.Addr) *future.Future[*Socket] {
		return dialOne(ctx, cfg, "tcp", netip.AddrPortFrom(ip.Unmap(), port).String(), addr)
	}, func(s *Socket) { s.Abort() }, 0)
	return future.Handle(f, func(s *Socket, err error) (*Socket, error) {
		var oe *OpError
		switch {
		case err == nil:
			return s, nil
		case errors.As(err, &oe):
			return nil, err // a connect attempt's own error
		case errors.Is(err, ErrDNS), errors.As(err, new(*net.DNSError)):
			return nil, opError("resolve", addr, err)
		case errors.Is(err, dns.ErrNotFound):
			return nil, opError("resolve", addr, fmt.Errorf("%w: %w", ErrDNS, err))
		}
		return nil, opError("dial", addr, err)
	})
}

func dialOne(ctx context.Context, cfg *config, network, ap, addr string) *future.Future[*Socket] {
	s := newSocket(cfg, nil, addr)
	if future.Tracing() {
		s.dialCtx = ctx
	}
	local := ""
	if cfg.local.IsValid() && network != "unix" {
		local = cfg.local.String()
	}
	f := cfg.rt.DialFrom(ctx, network, local, ap, (*connHandler)(s))
	return future.Handle(f, func(_ *loop.Conn, err error) (*Socket, error) {
		if err != nil {
			return nil, opError("dial", addr, err)
		}
		return s, nil
	})
}

func mapErr[T any](f *future.Future[T], op, addr string) *future.Future[T] {
	return future.Handle(f, func(v T, err error) (T, error) {
		return v, opError(op, addr, err)
	})
}

// Send connects to addr and writes data: the future resolves with the
// socket once data was handed to the kernel (cl-async's tcp-send).
func Send(ctx context.Context, addr string, data []byte, opts ...DialOption) *future.Future[*Socket] {
	buf := append([]byte(nil), data...)
	return future.Compose(Connect(ctx, addr, opts...), func(s *Socket) *future.Future[*Socket] {
		return future.Then(s.Write(buf), func(struct{}) (*Socket, error) { return s, nil })
	})
}
