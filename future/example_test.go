package future_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/goasync/goasync/future"
)

// A promise is settled by the producer; its future is chained by the
// consumer. Continuations run inside Resolve.
func ExampleNew() {
	p := future.New[string]()
	n := future.Then(p.Future(), strconv.Atoi).
		Then(func(v int) (int, error) { return v * 2, nil })
	p.Resolve("21")
	v, err := n.Await(context.Background())
	fmt.Println(v, err)
	// Output: 42 <nil>
}

// Rejections skip Then and reach the next Catch.
func ExampleFuture_Catch() {
	f := future.Then(future.Resolved("x"), strconv.Atoi).
		Then(func(v int) (int, error) { return v + 1, nil }).
		Catch(func(err error) (int, error) {
			fmt.Println("caught:", err)
			return -1, nil
		})
	v, _ := f.Await(context.Background())
	fmt.Println(v)
	// Output:
	// caught: strconv.Atoi: parsing "x": invalid syntax
	// -1
}

// CatchAs handles one kind of error, matched with errors.As.
func ExampleCatchAs() {
	f := future.Then(future.Resolved("x"), strconv.Atoi)
	g := future.CatchAs(f, func(e *strconv.NumError) (int, error) {
		return 0, fmt.Errorf("bad number %q", e.Num)
	})
	_, err := g.Await(context.Background())
	fmt.Println(err)
	// Output: bad number "x"
}

// All joins futures in input order.
func ExampleAll() {
	a, b := future.New[int](), future.New[int]()
	all := future.All(a.Future(), b.Future(), future.Resolved(3))
	b.Resolve(2)
	a.Resolve(1)
	v, err := all.Await(context.Background())
	fmt.Println(v, err)
	// Output: [1 2 3] <nil>
}

// Compose flattens a step that itself returns a future.
func ExampleCompose() {
	lookup := func(name string) *future.Future[int] { return future.Resolved(len(name)) }
	f := future.Compose(future.Resolved("gopher"), lookup)
	v, _ := f.Await(context.Background())
	fmt.Println(v)
	// Output: 6
}

// Cancel tells the producer, through OnCancel, that the consumer gave up.
func ExampleFuture_Cancel() {
	p := future.New[int]()
	p.OnCancel(func(cause error) { fmt.Println("producer stops:", cause) })
	p.Future().Cancel(errors.New("user left"))
	_, err := p.Future().Await(context.Background())
	fmt.Println(errors.Is(err, future.ErrCanceled))
	// Output:
	// producer stops: user left
	// true
}

// Go runs blocking work on the bounded pool and returns its future.
func ExampleGo() {
	f := future.Go(func() (int, error) {
		return 6 * 7, nil // a blocking call would go here
	})
	v, err := f.Await(context.Background())
	fmt.Println(v, err)
	// Output: 42 <nil>
}

// WithContext rejects with the context's cause when it ends first.
func ExampleWithContext() {
	ctx, cancel := context.WithCancelCause(context.Background())
	f := future.WithContext(ctx, future.New[int]().Future())
	cancel(errors.New("deadline from the caller"))
	_, err := f.Await(context.Background())
	fmt.Println(err)
	// Output: deadline from the caller
}

// AllSettled waits for every input and never rejects.
func ExampleAllSettled() {
	rs, _ := future.AllSettled(future.Resolved(1), future.Rejected[int](errors.New("down"))).
		Await(context.Background())
	for _, r := range rs {
		fmt.Println(r.Value, r.Err)
	}
	// Output:
	// 1 <nil>
	// 0 down
}

// Any takes the first success; Race the first outcome of any kind.
func ExampleAny() {
	slow := future.New[string]()
	f := future.Any(future.Rejected[string](errors.New("mirror 1 down")), slow.Future(), future.Resolved("mirror 3"))
	v, _ := f.Await(context.Background())
	_, err := slow.Future().Await(context.Background())
	fmt.Println(v, errors.Is(err, future.ErrCanceled))
	// Output: mirror 3 true
}

// executor queues functions, standing in for an event loop.
type executor chan func()

func (e executor) Execute(fn func()) { e <- fn }

// Via moves the continuations of a future to an executor, such as an
// event loop's.
func ExampleFuture_Via() {
	loop := make(executor, 1)
	p := future.New[int]()
	f := p.Future().Via(loop).Then(func(v int) (int, error) {
		fmt.Println("on the loop:", v)
		return v, nil
	})
	p.Resolve(5) // hands the outcome to the loop; nothing runs yet
	(<-loop)()   // the loop runs it
	v, _ := f.Await(context.Background())
	fmt.Println(v)
	// Output:
	// on the loop: 5
	// 5
}

// SetUnhandledHandler decides what happens to rejections that nobody
// observed: they are reported when the garbage collector finds the
// rejected future unreachable.
func ExampleSetUnhandledHandler() {
	future.SetUnhandledHandler(func(err error) {
		fmt.Println("unhandled:", err)
	})
	defer future.SetUnhandledHandler(nil)
	future.New[int]().Reject(errors.New("nobody listens"))
}

// Named futures log one debug entry when they settle, when the library
// logger records debug entries; otherwise Named costs nothing.
func ExampleFuture_Named() {
	p := future.New[int]()
	p.Future().Named("fetch config")
	p.Resolve(1)
}
