package dns

import (
	"errors"
	"net"

	"github.com/goasync/goasync/future"
)

// Error convention
//
// Every lookup failure is a *net.DNSError, the type Go programmers already
// match on, so errors.As(err, &dnsErr) works and dnsErr.IsNotFound,
// IsTimeout and IsTemporary say what happened. The DNSError also wraps one
// of the sentinels below (through its UnwrapErr field), so errors.Is works
// without a type assertion:
//
//	errors.Is(err, dns.ErrNotFound)       // NXDOMAIN, or no address of the family
//	errors.Is(err, future.ErrTimeout)     // no server answered in time
//	errors.Is(err, dns.ErrServerFailure)  // servers answered SERVFAIL, REFUSED or garbage
//	errors.Is(err, dns.ErrInvalidName)    // the host is not a valid DNS name
//
// future.ErrTimeout also matches context.DeadlineExceeded. A lookup whose
// context ends is rejected with context.Cause(ctx) itself.

var (
	// ErrNotFound matches lookups of names that do not exist (NXDOMAIN) or
	// have no address of the requested family (NODATA), and reverse lookups
	// without a PTR record. Its text is Go's "no such host".
	ErrNotFound = errors.New("no such host")
	// ErrServerFailure matches lookups that every server failed: SERVFAIL,
	// REFUSED and other error codes, malformed replies, or a CNAME chain
	// that is too long or loops.
	ErrServerFailure = errors.New("server misbehaving")
	// ErrInvalidName matches lookups of a host that is not a valid name.
	ErrInvalidName = errors.New("invalid host name")
)

func errNotFound(name, server string) error {
	return &net.DNSError{Err: ErrNotFound.Error(), Name: name, Server: server, IsNotFound: true, UnwrapErr: ErrNotFound}
}

func errTimeout(name, server string) error {
	return &net.DNSError{Err: "i/o timeout", Name: name, Server: server, IsTimeout: true, IsTemporary: true, UnwrapErr: future.ErrTimeout}
}

func errServerFailure(name, server, detail string) error {
	msg := ErrServerFailure.Error()
	if detail != "" {
		msg += " (" + detail + ")"
	}
	return &net.DNSError{Err: msg, Name: name, Server: server, IsTemporary: true, UnwrapErr: ErrServerFailure}
}

func errInvalidName(name string) error {
	return &net.DNSError{Err: ErrInvalidName.Error(), Name: name, UnwrapErr: ErrInvalidName}
}

// errNet wraps a transport error (a refused connection, a closed runtime).
func errNet(name, server string, err error) error {
	return &net.DNSError{Err: err.Error(), Name: name, Server: server, IsTemporary: true, UnwrapErr: err}
}

// withName returns err with its Name replaced by the host the user asked
// for, when err is one of ours.
func withName(err error, host string) error {
	var de *net.DNSError
	if errors.As(err, &de) {
		c := *de
		c.Name = host
		return &c
	}
	return err
}

// isNotFound reports whether err is a not-found answer.
func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// isTimeoutErr reports whether err is a timeout.
func isTimeoutErr(err error) bool { return errors.Is(err, future.ErrTimeout) }

// isServerFailure reports whether err is a server failure.
func isServerFailure(err error) bool { return errors.Is(err, ErrServerFailure) }
