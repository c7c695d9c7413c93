package future

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestCombinatorsAgainstModel settles the inputs of All, AllSettled, Any
// and Race in random orders with random outcomes and compares every
// result with what a plain model of the rules predicts.
func TestCombinatorsAgainstModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 2000 {
		n := 1 + rng.IntN(6)
		ps := make([]*Promise[int], n)
		fs := make([]*Future[int], n)
		fail := make([]bool, n)
		errs := make([]error, n)
		for i := range ps {
			ps[i] = New[int]()
			fs[i] = ps[i].Future()
			fail[i] = rng.IntN(3) == 0
			errs[i] = fmt.Errorf("input %d failed", i)
		}
		order := rng.Perm(n)
		kind := round % 4
		var out any
		switch kind {
		case 0:
			out = All(fs...)
		case 1:
			out = AllSettled(fs...)
		case 2:
			out = Any(fs...)
		case 3:
			out = Race(fs...)
		}
		for _, i := range order {
			if fail[i] {
				ps[i].Reject(errs[i])
			} else {
				ps[i].Resolve(i * 10)
			}
		}

		// The model: walk the settle order. Inputs cancelled by the
		// combinator before their turn keep the cancellation.
		switch kind {
		case 0:
			v, err, ok := out.(*Future[[]int]).Result()
			first := -1
			for _, i := range order {
				if fail[i] {
					first = i
					break
				}
			}
			if !ok {
				t.Fatalf("round %d: All pending", round)
			}
			if first >= 0 {
				if err != errs[first] {
					t.Fatalf("round %d: All = %v, want %v", round, err, errs[first])
				}
				// Inputs after the first failure in the order were cancelled.
				seen := false
				for _, i := range order {
					if i == first {
						seen = true
						continue
					}
					if _, e, _ := fs[i].Result(); seen && !errors.Is(e, ErrCanceled) {
						t.Fatalf("round %d: input %d settled after the failure was not cancelled: %v", round, i, e)
					}
				}
			} else {
				for i := range v {
					if err != nil || v[i] != i*10 {
						t.Fatalf("round %d: All = %v, %v", round, v, err)
					}
				}
			}
		case 1:
			rs, err, ok := out.(*Future[[]Result[int]]).Result()
			if !ok || err != nil || len(rs) != n {
				t.Fatalf("round %d: AllSettled = %v, %v, %v", round, rs, err, ok)
			}
			for i, r := range rs {
				if fail[i] && r.Err != errs[i] || !fail[i] && (r.Err != nil || r.Value != i*10) {
					t.Fatalf("round %d: AllSettled[%d] = %+v", round, i, r)
				}
			}
		case 2:
			v, err, _ := out.(*Future[int]).Result()
			win := -1
			for _, i := range order {
				if !fail[i] {
					win = i
					break
				}
			}
			if win >= 0 {
				if err != nil || v != win*10 {
					t.Fatalf("round %d: Any = %v, %v, want %v", round, v, err, win*10)
				}
			} else {
				for i := range n {
					if !errors.Is(err, errs[i]) {
						t.Fatalf("round %d: Any's error %v lacks %v", round, err, errs[i])
					}
				}
			}
		case 3:
			v, err, _ := out.(*Future[int]).Result()
			first := order[0]
			if fail[first] && err != errs[first] || !fail[first] && (err != nil || v != first*10) {
				t.Fatalf("round %d: Race = %v, %v; first was %d", round, v, err, first)
			}
		}
	}
}
