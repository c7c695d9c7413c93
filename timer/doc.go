// Package timer provides time-based futures: Delay, After, Interval and
// Timeout, plus process signals as handlers and futures.
//
// # One scheduler goroutine
//
// Timers cost no goroutine each. All of them sit in one min-heap of
// deadlines served by a single scheduler goroutine, which starts when the
// first timer is armed and exits as soon as none is armed, so an idle
// program (or a test checked with goleak) holds no timer goroutine.
//
// # Where completions run
//
// A timer started on an event-loop goroutine completes on that loop: the
// loop's executor is looked up when the timer starts and the scheduler
// hands the completion to it. The option On picks another executor.
// Otherwise the completion runs on the scheduler goroutine itself, so
// continuations attached to those futures must be short and must not
// block: every other timer waits for them. Hop elsewhere with Via or
// future.Go when in doubt.
package timer
