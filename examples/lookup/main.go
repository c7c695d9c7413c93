// Command lookup resolves host names with goasync's asynchronous resolver
// and prints every address, as the CL Cookbook's lookup-hostname and
// cl-async's dns-lookup do:
//
//	go run ./examples/lookup example.com go.dev
//	go run ./examples/lookup -4 -server 127.0.0.1:5353 example.com
//	go run ./examples/lookup -x 192.0.2.1
//
// All the names are looked up at once: each lookup is a future, and
// AllSettled joins them, keeping the command-line order. -4 and -6 choose
// the address family; -server sends the queries to one server instead of
// those of /etc/resolv.conf; -x does a reverse (PTR) lookup of an address.
// It exits with status 1 if any lookup failed.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"syscall"

	"github.com/goasync/goasync/dns"
	"github.com/goasync/goasync/examples/internal/cli"
	"github.com/goasync/goasync/future"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cli.Exit("lookup", run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := cli.New("lookup", cli.Usage{
		Synopsis: []string{"lookup [-4|-6] [-server ADDR] HOST...", "lookup [-server ADDR] -x ADDR"},
		Summary:  "Looks the host names up at once and prints every address (or, with -x, the names of an address).",
	}, stdout, stderr)
	v4 := fs.Bool("4", false, "IPv4 addresses only")
	v6 := fs.Bool("6", false, "IPv6 addresses only")
	server := fs.String("server", "", "name server to ask, IP or IP:port (default: those of /etc/resolv.conf)")
	reverse := fs.String("x", "", "reverse lookup: print the names of this address")
	if err := fs.Parse(args); err != nil {
		return err
	}

	var opts []dns.Option
	switch {
	case *v4 && *v6:
		return fs.Fail(errors.New("-4 and -6 exclude each other"))
	case *v4:
		opts = append(opts, dns.WithFamily(dns.FamilyV4))
	case *v6:
		opts = append(opts, dns.WithFamily(dns.FamilyV6))
	}
	if *server != "" {
		ap, err := parseServer(*server)
		if err != nil {
			return err
		}
		opts = append(opts, dns.WithServer(ap))
	}

	if *reverse != "" {
		if fs.NArg() > 0 {
			return fs.Fail(errors.New("-x takes one address and no host names"))
		}
		ip, err := netip.ParseAddr(*reverse)
		if err != nil {
			return fmt.Errorf("-x %q: not an IP address", *reverse)
		}
		names, err := dns.LookupAddr(ctx, ip, opts...).Await(ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", ip, err)
		}
		for _, n := range names {
			fmt.Fprintf(stdout, "%s domain name pointer %s\n", ip, n)
		}
		return nil
	}

	hosts := fs.Args()
	if len(hosts) == 0 {
		return fs.Fail(errors.New("no host to look up"))
	}
	lookups := make([]*future.Future[[]netip.Addr], len(hosts))
	for i, h := range hosts {
		lookups[i] = dns.Lookup(ctx, h, opts...)
	}
	results, err := future.AllSettled(lookups...).Await(ctx)
	if err != nil {
		return err
	}
	failed := 0
	for i, r := range results {
		if r.Err != nil {
			failed++
			fmt.Fprintf(stderr, "%s: %v\n", hosts[i], r.Err)
			continue
		}
		for _, a := range r.Value {
			kind := "address"
			if a.Is6() && !a.Is4In6() {
				kind = "IPv6 address"
			}
			fmt.Fprintf(stdout, "%s has %s %s\n", hosts[i], kind, a)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d lookups failed", failed, len(hosts))
	}
	return nil
}

// parseServer accepts "IP" (port 53) or "IP:port" / "[IPv6]:port".
func parseServer(s string) (netip.AddrPort, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap, nil
	}
	if ip, err := netip.ParseAddr(s); err == nil {
		return netip.AddrPortFrom(ip, 53), nil
	}
	return netip.AddrPort{}, fmt.Errorf("-server %q: want an IP address, optionally with :port", s)
}
