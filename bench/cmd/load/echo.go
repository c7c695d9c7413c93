package main

import (
	"flag"
	"fmt"
	"net"
	"time"

	"golang.org/x/sys/unix"
)

// EchoResult is what "load echo" prints.
type EchoResult struct {
	Conns      int     `json:"conns"`
	Size       int     `json:"size"`
	Depth      int     `json:"depth"`
	Seconds    float64 `json:"seconds"`
	Messages   int64   `json:"messages"`
	MsgPerSec  float64 `json:"msg_per_sec"`
	ServerCPU  float64 `json:"server_cpu_seconds"`
	MsgPerCPUs float64 `json:"msg_per_server_cpu_second"`
	P50us      float64 `json:"p50_us"`
	P99us      float64 `json:"p99_us"`
	ClientCPU  float64 `json:"client_cpu_util"` // share of one CPU this load tool used
}

// selfCPU returns the CPU time this process has used.
func selfCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type echoConn struct {
	fd      int
	partial int         // bytes of the current reply received so far
	sent    []time.Time // ring of send times of messages in flight
	head, n int
}

func (c *echoConn) push(t time.Time) {
	c.sent[(c.head+c.n)%len(c.sent)] = t
	c.n++
}

func (c *echoConn) pop() time.Time {
	t := c.sent[c.head]
	c.head = (c.head + 1) % len(c.sent)
	c.n--
	return t
}

// runEcho drives an echo server with a single-threaded epoll loop (so the
// load tool itself costs about what a fast server costs per message): conns
// connections, each keeping depth messages of size bytes in flight; every
// reply is answered with a new message. It measures the window after warmup.
func runEcho(args []string) (any, error) {
	fs := flag.NewFlagSet("echo", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:9000", "server address")
	conns := fs.Int("conns", 50, "connections")
	size := fs.Int("size", 64, "message size in bytes")
	depth := fs.Int("depth", 1, "messages in flight per connection")
	dur := fs.Duration("dur", 2*time.Second, "measured time")
	warm := fs.Duration("warmup", 300*time.Millisecond, "unmeasured time before")
	pid := fs.Int("pid", 0, "server pid, for CPU time")
	src := fs.String("src", "", "source IP address")
	_ = fs.Parse(args)
	if *conns < 1 || *conns > 19000 || *size < 1 || *depth < 1 || *dur <= 0 || *dur > 10*time.Minute {
		return nil, fmt.Errorf("bad flags")
	}
	ta, err := net.ResolveTCPAddr("tcp4", *addr)
	if err != nil {
		return nil, err
	}
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	defer unix.Close(ep)
	sa := &unix.SockaddrInet4{Port: ta.Port}
	copy(sa.Addr[:], ta.IP.To4())
	var srcSA *unix.SockaddrInet4
	if *src != "" {
		srcSA = &unix.SockaddrInet4{}
		copy(srcSA.Addr[:], net.ParseIP(*src).To4())
	}
	msg := make([]byte, *size**depth)
	for i := range msg {
		msg[i] = byte('a' + i%26)
	}
	cs := make(map[int]*echoConn, *conns)
	defer func() {
		for fd := range cs {
			_ = unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
			unix.Close(fd)
		}
	}()
	for range *conns {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("socket: %v", err)
		}
		if srcSA != nil {
			if err := unix.Bind(fd, srcSA); err != nil {
				unix.Close(fd)
				return nil, fmt.Errorf("bind: %v", err)
			}
		}
		if err := unix.Connect(fd, sa); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("connect: %v", errno(err))
		}
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		if err := unix.SetNonblock(fd, true); err != nil {
			unix.Close(fd)
			return nil, err
		}
		c := &echoConn{fd: fd, sent: make([]time.Time, *depth)}
		cs[fd] = c
		if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}); err != nil {
			return nil, err
		}
	}
	// Prime every connection with depth messages.
	now := time.Now()
	for _, c := range cs {
		if err := writeAll(c.fd, msg); err != nil {
			return nil, err
		}
		for range *depth {
			c.push(now)
		}
	}
	start := time.Now()
	mstart := start.Add(*warm)
	end := mstart.Add(*dur)
	lat := make([]time.Duration, 0, 1<<20)
	const maxLat = 8 << 20
	var msgs int64
	cpu0 := time.Duration(-1)
	var self0 time.Duration
	buf := make([]byte, 64<<10)
	evs := make([]unix.EpollEvent, 256)
	measuring := false
	for {
		n, err := unix.EpollWait(ep, evs, 100)
		if err != nil && err != unix.EINTR {
			return nil, fmt.Errorf("epoll_wait: %v", err)
		}
		now := time.Now()
		if !measuring && now.After(mstart) {
			measuring = true
			cpu0 = cpuOf(*pid)
			self0 = selfCPU()
			mstart = now
		}
		if now.After(end) {
			cpu1 := cpuOf(*pid)
			secs := now.Sub(mstart).Seconds()
			sortDurations(lat)
			r := EchoResult{Conns: *conns, Size: *size, Depth: *depth, Seconds: secs, Messages: msgs,
				MsgPerSec: float64(msgs) / secs,
				P50us:     float64(percentile(lat, 50)) / 1e3, P99us: float64(percentile(lat, 99)) / 1e3,
				ClientCPU: (selfCPU() - self0).Seconds() / secs}
			if *pid > 0 && cpu0 >= 0 {
				r.ServerCPU = (cpu1 - cpu0).Seconds()
				if r.ServerCPU > 0 {
					r.MsgPerCPUs = float64(msgs) / r.ServerCPU
				}
			}
			return r, nil
		}
		if n == 0 && now.Sub(start) > 5*time.Second+*warm && msgs == 0 {
			return nil, fmt.Errorf("no reply from the server")
		}
		for i := 0; i < n; i++ {
			c := cs[int(evs[i].Fd)]
			r, err := unix.Read(c.fd, buf)
			if err == unix.EAGAIN || err == unix.EINTR {
				continue
			}
			if err != nil || r == 0 {
				return nil, fmt.Errorf("connection closed by the server (%v)", err)
			}
			c.partial += r
			done := c.partial / *size
			c.partial %= *size
			if done == 0 {
				continue
			}
			if done > c.n {
				return nil, fmt.Errorf("server sent more than was asked")
			}
			for range done {
				t := c.pop()
				if measuring {
					msgs++
					if len(lat) < maxLat {
						lat = append(lat, now.Sub(t))
					}
				}
			}
			if err := writeAll(c.fd, msg[:done**size]); err != nil {
				return nil, err
			}
			for range done {
				c.push(now)
			}
		}
	}
}

// writeAll writes p to a nonblocking socket; replies are tiny next to the
// socket buffer, so a short write only happens when the server stalls, and
// then it waits with poll, bounded.
func writeAll(fd int, p []byte) error {
	deadline := time.Now().Add(10 * time.Second)
	for len(p) > 0 {
		n, err := unix.Write(fd, p)
		if n > 0 {
			p = p[n:]
			continue
		}
		if err == unix.EAGAIN || err == unix.EINTR {
			if time.Now().After(deadline) {
				return fmt.Errorf("write stalled for 10s")
			}
			_, _ = unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}, 100)
			continue
		}
		return fmt.Errorf("write: %v", err)
	}
	return nil
}
