// Package timer provides time-based futures: Delay, After, Interval and
// Timeout, plus process signals as handlers and futures.
//
// # One timer mechanism
//
// Timers cost no goroutine each. A timer started on a goasync event loop
// (or with On naming one) is one of that loop's own timers: a heap of
// deadlines woken by one lazily re-armed time.Timer per loop, fired on
// the loop. A timer started anywhere else sits in the same kind of heap,
// the process-wide background set, whose due timers fire together on the
// goroutine of its one wake-up time.Timer; nothing is left running while
// no timer is armed, so an idle program (or a test checked with goleak)
// holds no timer goroutine.
//
// # Where completions run
//
// A timer started on an event-loop goroutine completes on that loop. The
// option On picks another executor, to which the completion is handed.
// Otherwise the completion runs on the timer goroutine itself, so
// continuations attached to those futures must be short and must not
// block: the other timers due with it wait for them. Hop elsewhere with
// Via or future.Go when in doubt.
package timer
