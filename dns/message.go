package dns

import (
	"errors"
	"net/netip"
	"strings"

	"golang.org/x/net/dns/dnsmessage"
)

const (
	// ednsUDPSize is the UDP payload size advertised with EDNS(0): the value
	// of DNS Flag Day 2020, which avoids IP fragmentation on every path.
	ednsUDPSize = 1232
	// maxCNAMEHops bounds a CNAME chain, within one reply and across the
	// follow-up queries it causes together.
	maxCNAMEHops = 8
)

// buildQuery appends to buf a recursive query for name (without trailing
// dot) of type qt with id, an EDNS(0) OPT record and, when tcp is set, the
// two-byte length prefix of DNS over TCP.
func buildQuery(buf []byte, id uint16, q dnsmessage.Question, tcp bool) ([]byte, error) {
	start := len(buf)
	if tcp {
		buf = append(buf, 0, 0)
	}
	// No compression: one question leaves nothing to compress (and the map
	// it needs would be one more allocation per query).
	b := dnsmessage.NewBuilder(buf, dnsmessage.Header{ID: id, RecursionDesired: true})
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	if err := b.Question(q); err != nil {
		return nil, err
	}
	if err := b.StartAdditionals(); err != nil {
		return nil, err
	}
	var rh dnsmessage.ResourceHeader
	if err := rh.SetEDNS0(ednsUDPSize, dnsmessage.RCodeSuccess, false); err != nil {
		return nil, err
	}
	if err := b.OPTResource(rh, dnsmessage.OPTResource{}); err != nil {
		return nil, err
	}
	out, err := b.Finish()
	if err != nil {
		return nil, err
	}
	if tcp {
		n := len(out) - start - 2
		out[start], out[start+1] = byte(n>>8), byte(n)
	}
	return out, nil
}

// question returns the question for name (lower case, without trailing dot).
func question(name string, qt dnsmessage.Type) (dnsmessage.Question, error) {
	n, err := dnsmessage.NewName(name + ".")
	if err != nil {
		return dnsmessage.Question{}, err
	}
	return dnsmessage.Question{Name: n, Type: qt, Class: dnsmessage.ClassINET}, nil
}

// replyKind says what a checked reply means.
type replyKind uint8

const (
	replyAnswer    replyKind = iota // records of the asked type were found
	replyNXDomain                   // RCODE 3: the name does not exist
	replyNoData                     // the name exists, no records of the type
	replyFollow                     // a CNAME chain ends at a name the reply has no answer for
	replyServFail                   // the server could not or would not answer (SERVFAIL, REFUSED, ...)
	replyTruncated                  // TC bit: ask again over TCP
)

// reply is what checkReply learnt from an accepted reply.
type reply struct {
	kind   replyKind
	rcode  dnsmessage.RCode
	addrs  []netip.Addr // A or AAAA answers, in reply order
	names  []string     // PTR answers, lower case, without trailing dot
	target string       // end of the CNAME chain (replyFollow, and the canonical name otherwise)
	hops   int          // CNAME records followed
	ttl    uint32       // cache lifetime: minimum TTL of the records used, or the negative TTL
	hasTTL bool         // ttl is meaningful (false: a negative answer without SOA must not be cached)
}

// errIgnore means a datagram is not the reply to our query: wrong id, not a
// response, another question, or too broken to tell. A UDP exchange keeps
// waiting for the real reply when it sees one.
var errIgnore = errors.New("dns: not a reply to this query")

// errMalformed means a reply matched our query but its records could not be
// parsed. The server is treated as failed for this query.
var errMalformed = errors.New("dns: malformed reply")

// checkReply accepts msg only as the reply to the query with id and q. It
// returns errIgnore for anything that is not that reply (the spoofing
// defence: id, response bit, opcode and the echoed question must all match),
// errMalformed for a matching reply whose records do not parse, and otherwise
// what the reply means. The source address is checked by the transport: a
// connected UDP socket only receives datagrams from the server it was
// connected to.
func checkReply(msg []byte, id uint16, q dnsmessage.Question) (reply, error) {
	want := q.Name.String()
	return checkReplyFor(msg, id, q, strings.ToLower(want[:len(want)-1]))
}

// checkReplyFor is checkReply for a caller that has the question's name
// already in the resolver's form (want: lower case, no trailing dot).
func checkReplyFor(msg []byte, id uint16, q dnsmessage.Question, want string) (reply, error) {
	var p dnsmessage.Parser
	h, err := p.Start(msg)
	if err != nil || h.ID != id || !h.Response || h.OpCode != 0 {
		return reply{}, errIgnore
	}
	rq, err := p.Question()
	if err != nil || !sameQuestion(rq, q) {
		return reply{}, errIgnore
	}
	// Exactly one question: a second one means this is not our reply.
	if _, err := p.Question(); err != dnsmessage.ErrSectionDone {
		return reply{}, errIgnore
	}
	if h.Truncated {
		return reply{kind: replyTruncated, rcode: h.RCode}, nil
	}
	switch h.RCode {
	case dnsmessage.RCodeSuccess, dnsmessage.RCodeNameError:
	default:
		return reply{kind: replyServFail, rcode: h.RCode}, nil
	}

	r := reply{rcode: h.RCode, ttl: ^uint32(0)}
	r.target = want
	// Answers: follow the CNAME chain from the question name and collect
	// records of the asked type owned by the end of the chain. Records are in
	// any order, so CNAMEs are resolved against the set collected first.
	type rec struct {
		owner string
		ttl   uint32
		cname string
		addr  netip.Addr
		ptr   string
	}
	var stack [4]rec // most replies have a few answers
	recs := stack[:0]
	for {
		ah, err := p.AnswerHeader()
		if err == dnsmessage.ErrSectionDone {
			break
		}
		if err != nil {
			return reply{}, errMalformed
		}
		if ah.Class != dnsmessage.ClassINET {
			if err := p.SkipAnswer(); err != nil {
				return reply{}, errMalformed
			}
			continue
		}
		owner := nameKey(ah.Name)
		switch ah.Type {
		case dnsmessage.TypeCNAME:
			c, err := p.CNAMEResource()
			if err != nil {
				return reply{}, errMalformed
			}
			recs = append(recs, rec{owner: owner, ttl: ah.TTL, cname: nameKey(c.CNAME)})
		case dnsmessage.TypeA:
			if q.Type != dnsmessage.TypeA {
				if err := p.SkipAnswer(); err != nil {
					return reply{}, errMalformed
				}
				continue
			}
			a, err := p.AResource()
			if err != nil {
				return reply{}, errMalformed
			}
			recs = append(recs, rec{owner: owner, ttl: ah.TTL, addr: netip.AddrFrom4(a.A)})
		case dnsmessage.TypeAAAA:
			if q.Type != dnsmessage.TypeAAAA {
				if err := p.SkipAnswer(); err != nil {
					return reply{}, errMalformed
				}
				continue
			}
			a, err := p.AAAAResource()
			if err != nil {
				return reply{}, errMalformed
			}
			recs = append(recs, rec{owner: owner, ttl: ah.TTL, addr: netip.AddrFrom16(a.AAAA)})
		case dnsmessage.TypePTR:
			if q.Type != dnsmessage.TypePTR {
				if err := p.SkipAnswer(); err != nil {
					return reply{}, errMalformed
				}
				continue
			}
			ptr, err := p.PTRResource()
			if err != nil {
				return reply{}, errMalformed
			}
			recs = append(recs, rec{owner: owner, ttl: ah.TTL, ptr: nameKey(ptr.PTR)})
		default:
			if err := p.SkipAnswer(); err != nil {
				return reply{}, errMalformed
			}
		}
	}

	// Walk the chain.
	cur := want
	for {
		next := ""
		for _, rc := range recs {
			if rc.cname != "" && rc.owner == cur {
				next = rc.cname
				r.ttl = min(r.ttl, rc.ttl)
				break
			}
		}
		if next == "" {
			break
		}
		if q.Type == dnsmessage.TypeCNAME {
			break
		}
		r.hops++
		if r.hops > maxCNAMEHops {
			return reply{kind: replyServFail, rcode: h.RCode}, nil
		}
		cur = next
	}
	r.target = cur
	for _, rc := range recs {
		if rc.owner != cur || rc.cname != "" {
			continue
		}
		if rc.addr.IsValid() {
			r.addrs = append(r.addrs, rc.addr)
		} else if rc.ptr != "" {
			r.names = append(r.names, rc.ptr)
		} else {
			continue
		}
		r.ttl = min(r.ttl, rc.ttl)
	}
	if len(r.addrs) > 0 || len(r.names) > 0 {
		r.kind = replyAnswer
		r.hasTTL = true
		return r, nil
	}

	// Nothing of the asked type: NXDOMAIN, NODATA or a chain to follow. The
	// SOA in the authority section gives the negative TTL (RFC 2308 section
	// 5: the minimum of the SOA record's TTL and its MINIMUM field).
	soaTTL, hasSOA, err := findSOA(&p)
	if err != nil {
		return reply{}, errMalformed
	}
	chainTTL := r.ttl
	switch {
	case h.RCode == dnsmessage.RCodeNameError:
		r.kind = replyNXDomain
	case r.hops > 0 && !hasSOA:
		// The server did not resolve the chain's end for us (it is not
		// recursive for it, or it answered from a zone that ends there).
		r.kind = replyFollow
		r.hasTTL = true
		return r, nil
	default:
		r.kind = replyNoData
	}
	if hasSOA {
		r.ttl = min(soaTTL, chainTTL)
		r.hasTTL = true
	} else {
		r.ttl, r.hasTTL = 0, false
	}
	return r, nil
}

// findSOA scans the authority section for an SOA record and returns its
// negative-caching TTL.
func findSOA(p *dnsmessage.Parser) (uint32, bool, error) {
	for {
		h, err := p.AuthorityHeader()
		if err == dnsmessage.ErrSectionDone {
			return 0, false, nil
		}
		if err != nil {
			return 0, false, err
		}
		if h.Type != dnsmessage.TypeSOA {
			if err := p.SkipAuthority(); err != nil {
				return 0, false, err
			}
			continue
		}
		soa, err := p.SOAResource()
		if err != nil {
			return 0, false, err
		}
		return min(h.TTL, soa.MinTTL), true, nil
	}
}

// sameQuestion compares a reply's question with ours. Names compare without
// regard to ASCII case (RFC 4343).
func sameQuestion(a, b dnsmessage.Question) bool {
	if a.Type != b.Type || a.Class != b.Class || a.Name.Length != b.Name.Length {
		return false
	}
	for i := 0; i < int(a.Name.Length); i++ {
		x, y := a.Name.Data[i], b.Name.Data[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// nameKey turns a parsed name into the cache form: lower case, without the
// trailing dot.
func nameKey(n dnsmessage.Name) string {
	s := n.String()
	s = strings.TrimSuffix(s, ".")
	return lowerName(s)
}
