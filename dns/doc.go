// Package dns is an asynchronous DNS resolver whose queries run on goasync's
// event loops.
//
// Lookup and LookupAddr return futures: nothing blocks while a query is on
// the wire. A Resolver reads /etc/hosts first (a name listed there is
// answered from the file alone, for every family, as Go's resolver does),
// never sends localhost or a name under it to DNS (RFC 6761: they are the
// loopback addresses), then looks in its cache, then asks the name servers of /etc/resolv.conf (search list, ndots, timeout, attempts,
// rotate and use-vc honoured with glibc's defaults). Every query goes out on
// a new connected UDP socket (a fresh source port) with a random 16-bit id;
// a reply is accepted only if its id, its question and its source match, and
// a truncated reply is asked again over TCP. Messages are built and parsed
// with golang.org/x/net/dns/dnsmessage. Answers are cached for their TTL
// (clamped), negative answers for their SOA minimum, and identical lookups
// in flight share one query.
//
// Errors are *net.DNSError values that also wrap ErrNotFound,
// ErrServerFailure, ErrInvalidName or future.ErrTimeout, for errors.Is.
//
// HappyEyeballs races connection attempts over the addresses of a name the
// way RFC 8305 describes; tcp.Connect uses it.
package dns
