package future

import (
	"sync/atomic"

	"github.com/goasync/goasync/internal/logx"
)

// Tuple2 holds the values of two futures of different types, joined by
// All2.
type Tuple2[A, B any] struct {
	V1 A
	V2 B
}

// Tuple3 holds the values of three futures of different types, joined by
// All3.
type Tuple3[A, B, C any] struct {
	V1 A
	V2 B
	V3 C
}

// All2 returns a future of the values of a and b, which may have
// different types: a fan-out over a DNS lookup and a TCP call joins
// without `any`. Like All, it rejects with the first rejection and then
// cancels the other input; cancelling the joined future cancels the
// inputs it is the only consumer of.
//
// Chain a function of both values with Then:
//
//	future.Then(future.All2(addrs, reply), func(t future.Tuple2[[]netip.Addr, string]) (R, error) { ... })
func All2[A, B any](a *Future[A], b *Future[B]) *Future[Tuple2[A, B]] {
	if a == nil || b == nil {
		return Rejected[Tuple2[A, B]](errNilFuture)
	}
	st := &all2[A, B]{}
	j := &st.j
	j.init(2, a, b)
	st.sa = slot[A, Tuple2[A, B]]{j: j, dst: &j.val.V1, i: 0}
	st.sb = slot[B, Tuple2[A, B]]{j: j, dst: &j.val.V2, i: 1}
	if a.traced() || b.traced() {
		joinTrace(&j.p.fut, "all2", a.rec(), b.rec())
	} else if logx.Debug() {
		j.p.fut.noteSite()
	}
	a.addCont(&st.sa)
	b.addCont(&st.sb)
	return &j.p.fut
}

type all2[A, B any] struct {
	j  tupleJoin[Tuple2[A, B]]
	sa slot[A, Tuple2[A, B]]
	sb slot[B, Tuple2[A, B]]
}

// All3 is All2 for three futures.
func All3[A, B, C any](a *Future[A], b *Future[B], c *Future[C]) *Future[Tuple3[A, B, C]] {
	if a == nil || b == nil || c == nil {
		return Rejected[Tuple3[A, B, C]](errNilFuture)
	}
	st := &all3[A, B, C]{}
	j := &st.j
	j.init(3, a, b, c)
	st.sa = slot[A, Tuple3[A, B, C]]{j: j, dst: &j.val.V1, i: 0}
	st.sb = slot[B, Tuple3[A, B, C]]{j: j, dst: &j.val.V2, i: 1}
	st.sc = slot[C, Tuple3[A, B, C]]{j: j, dst: &j.val.V3, i: 2}
	if a.traced() || b.traced() || c.traced() {
		joinTrace(&j.p.fut, "all3", a.rec(), b.rec(), c.rec())
	} else if logx.Debug() {
		j.p.fut.noteSite()
	}
	a.addCont(&st.sa)
	b.addCont(&st.sb)
	c.addCont(&st.sc)
	return &j.p.fut
}

type all3[A, B, C any] struct {
	j  tupleJoin[Tuple3[A, B, C]]
	sa slot[A, Tuple3[A, B, C]]
	sb slot[B, Tuple3[A, B, C]]
	sc slot[C, Tuple3[A, B, C]]
}

// input is what a join needs of an input of any type.
type input interface {
	Cancel(cause error) bool
	cancelUp(cause error)
}

// tupleJoin is the shared state of All2 and All3: the joined future, the
// tuple being filled and the inputs, for cancellation.
type tupleJoin[R any] struct {
	p    Promise[R]
	val  R
	left atomic.Int32
	n    int
	ins  [3]input
}

func (j *tupleJoin[R]) init(n int, ins ...input) {
	j.n = n
	copy(j.ins[:], ins)
	j.left.Store(int32(n))
	pendingOn(&j.p.fut, j)
}

// arrive records that input i settled; its value, if any, is already in
// val.
func (j *tupleJoin[R]) arrive(i int, err error) {
	if err != nil {
		var zero R
		if j.p.fut.settle(zero, err, false, nil) {
			for k := range j.n {
				if k != i {
					j.ins[k].Cancel(err)
				}
			}
		}
		return
	}
	if j.left.Add(-1) == 0 {
		j.p.fut.settle(j.val, nil, false, nil)
	}
}

func (j *tupleJoin[R]) cancelUp(cause error) {
	for k := range j.n {
		j.ins[k].cancelUp(cause)
	}
}

// slot is the continuation a tuple join attaches to one input: it stores
// the value in its field of the tuple.
type slot[T, R any] struct {
	j   *tupleJoin[R]
	dst *T
	i   int
}

func (s *slot[T, R]) complete(v T, err error) {
	if err == nil {
		*s.dst = v
	}
	s.j.arrive(s.i, err)
}
