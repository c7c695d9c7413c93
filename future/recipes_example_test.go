package future_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"

	"github.com/goasync/goasync/future"
)

// The method Then keeps the type (Go methods cannot have type
// parameters); the function Then changes it. Chain same-type steps with
// methods, and type changes with functions.
func ExampleThen_changeType() {
	// string -> int: the function; int -> int: the method.
	n := future.Then(future.Resolved("20"), strconv.Atoi).
		Then(func(v int) (int, error) { return v + 1, nil })
	s := future.Then(n, func(v int) (string, error) { return "#" + strconv.Itoa(v), nil })
	v, _ := s.Await(context.Background())
	fmt.Println(v)
	// Output: #21
}

// OrElse recovers with another future: fall back to a cache when the
// primary source fails, in one step.
func ExampleFuture_OrElse() {
	cache := map[string]string{"price": "41 (cached)"}
	primary := future.Rejected[string](errors.New("host down"))
	price := primary.OrElse(func(err error) *future.Future[string] {
		if v, ok := cache["price"]; ok {
			return future.Resolved(v)
		}
		return future.Rejected[string](err)
	})
	v, err := price.Await(context.Background())
	fmt.Println(v, err)
	// Output: 41 (cached) <nil>
}

// All3 joins futures of different types (a lookup, a TCP reply, an HTTP
// status) without `any`; Then combines the values.
func ExampleAll3() {
	addrs := future.Resolved([]netip.Addr{netip.MustParseAddr("127.0.0.1")})
	reply := future.Resolved("pong")
	status := future.Resolved(200)
	report := future.Then(future.All3(addrs, reply, status),
		func(t future.Tuple3[[]netip.Addr, string, int]) (string, error) {
			return fmt.Sprintf("%v %s %d", t.V1, t.V2, t.V3), nil
		})
	v, _ := report.Await(context.Background())
	fmt.Println(v)
	// Output: [127.0.0.1] pong 200
}

// Fan-out over many hosts of one type, fan-in with AllSettled: every
// outcome, failures included, in input order.
func ExampleAllSettled_fanOut() {
	fetch := func(host string) *future.Future[int] {
		if host == "b" {
			return future.Rejected[int](errors.New("b is down"))
		}
		return future.Resolved(len(host))
	}
	var fs []*future.Future[int]
	for _, h := range []string{"a", "b", "ccc"} {
		fs = append(fs, fetch(h))
	}
	rs, _ := future.AllSettled(fs...).Await(context.Background())
	for _, r := range rs {
		fmt.Println(r.Value, r.Err)
	}
	// Output:
	// 1 <nil>
	// 0 b is down
	// 3 <nil>
}

// Any takes the first host to answer and cancels the others.
func ExampleAny_firstHost() {
	slow := future.New[string]()
	slow.OnCancel(func(error) { fmt.Println("slow host cancelled") })
	v, _ := future.Any(slow.Future(), future.Resolved("fast host")).Await(context.Background())
	fmt.Println(v)
	// Output:
	// slow host cancelled
	// fast host
}

// Cancellation: a context bounds a pipeline; when it ends, the future
// rejects with the context's cause and the producer hears of it.
func ExampleWithContext_cancel() {
	p := future.New[int]()
	p.OnCancel(func(cause error) { fmt.Println("producer stops:", cause) })
	ctx, cancel := context.WithCancelCause(context.Background())
	f := future.WithContext(ctx, p.Future())
	cancel(errors.New("user went away"))
	_, err := f.Await(context.Background())
	fmt.Println(err)
	// Output:
	// producer stops: user went away
	// user went away
}

// Trace names a pipeline; WithTraceID makes it carry the application's
// request id, so goasync's debug lines join the application's logs.
// (With the library logger at debug level every step logs "future
// started" and "future settled"; with debug off nothing is traced.)
func ExampleTrace() {
	ctx := future.WithTraceID(context.Background(), "req-42")
	p := future.New[string]()
	f := future.Trace(ctx, p.Future(), "load user")
	n := future.Then(f, strconv.Atoi)
	p.Resolve("7")
	v, _ := n.Await(ctx)
	fmt.Println(v, future.TraceID(ctx))
	// Output: 7 req-42
}
