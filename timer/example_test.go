package timer_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/goasync/goasync/future"
	"github.com/goasync/goasync/timer"
)

// Delay is a future that resolves after a duration.
func ExampleDelay() {
	f := timer.Delay(10 * time.Millisecond)
	_, err := f.Await(context.Background())
	fmt.Println("waited", err)
	// Output: waited <nil>
}

// After runs a function later and gives its result as a future.
func ExampleAfter() {
	f := timer.After(10*time.Millisecond, func() (string, error) { return "ding", nil })
	v, _ := f.Await(context.Background())
	fmt.Println(v)
	// Output: ding
}

// Timeout bounds a future: the slow producer learns through OnCancel.
func ExampleTimeout() {
	p := future.New[string]()
	p.OnCancel(func(cause error) { fmt.Println("producer told:", cause) })
	_, err := timer.Timeout(p.Future(), 10*time.Millisecond).Await(context.Background())
	fmt.Println(errors.Is(err, future.ErrTimeout), errors.Is(err, context.DeadlineExceeded))
	// Output:
	// producer told: future: timeout
	// true true
}

// Interval calls a function on a fixed grid until stopped.
func ExampleInterval() {
	done := make(chan struct{})
	n := 0
	var tick *timer.Ticker
	tick = timer.Interval(5*time.Millisecond, func() {
		n++ // calls never overlap
		if n == 3 {
			close(done)
		}
	})
	<-done
	tick.Stop()
	fmt.Println("ticks:", tick.Ticks())
	// Output: ticks: 3
}

// Signal waits for a process signal as a future; OnSignal keeps a
// handler until Free.
func ExampleSignal() {
	f := timer.Signal(context.Background(), syscall.SIGUSR1)
	syscall.Kill(os.Getpid(), syscall.SIGUSR1)
	s, _ := f.Await(context.Background())
	fmt.Println("got", s)
	// Output: got user defined signal 1
}

// OnSignal keeps calling fn for each signal until Free.
func ExampleOnSignal() {
	got := make(chan os.Signal, 1)
	h := timer.OnSignal(func(s os.Signal) { got <- s }, syscall.SIGUSR2)
	defer h.Free()
	syscall.Kill(os.Getpid(), syscall.SIGUSR2)
	fmt.Println("handled", <-got)
	// Output: handled user defined signal 2
}

// queue is an executor that runs functions when told to, standing in for
// an event loop.
type queue chan func()

func (q queue) Execute(fn func()) { q <- fn }

// On delivers a timer's completion through an executor, such as the event
// loop that owns a socket. (A timer started on a loop goroutine does this
// by itself.)
func ExampleOn() {
	loop := make(queue, 1)
	f := timer.After(time.Millisecond, func() (string, error) { return "on the loop", nil }, timer.On(loop))
	(<-loop)() // the loop runs the completion
	v, _ := f.Await(context.Background())
	fmt.Println(v)
	// Output: on the loop
}
