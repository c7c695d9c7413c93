package tcp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

func ioReadFull(r io.Reader, b []byte) (int, error) { return io.ReadFull(r, b) }

// floodMain is the child process of TestServerSurvivesDescriptorExhaustion:
// an echo server in a process whose descriptor limit is 256, driven by
// commands on stdin.
func floodMain() int {
	if kind, ok := strings.CutPrefix(os.Getenv(floodEnv), "idle-"); ok {
		return idleServerMain(kind)
	}
	rl := unix.Rlimit{Cur: 256, Max: 256}
	var cur unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &cur); err == nil && cur.Max < rl.Max {
		rl.Max = cur.Max
	}
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		fmt.Println("setrlimit:", err)
		return 1
	}
	var opts []ListenOption
	if os.Getenv(floodEnv) == "uncapped" {
		opts = append(opts, WithMaxConns(1<<20))
	}
	srv, err := Listen("127.0.0.1:0", echoHandler(), opts...)
	if err != nil {
		fmt.Println("listen:", err)
		return 1
	}
	fmt.Println(srv.Addr())
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		switch sc.Text() {
		case "status":
			select {
			case <-srv.Done():
				fmt.Println("dead", srv.Count(), srv.Rejected(), openFDs(), errors.Is(srv.Err(), ErrAccept))
			default:
				fmt.Println("alive", srv.Count(), srv.Rejected(), openFDs(), srv.AcceptErrors(), errors.Is(srv.Err(), ErrAccept))
			}
		case "exit":
			return 0
		}
	}
	return 0
}

func openFDs() int {
	ents, _ := os.ReadDir("/proc/self/fd")
	return len(ents)
}
