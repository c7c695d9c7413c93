// Package copyvet copies a Promise on purpose: go vet must report it.
package copyvet

import "github.com/goasync/goasync/future"

// Copy dereferences a promise, copying it.
func Copy() future.Promise[int] {
	p := future.New[int]()
	q := *p
	return q
}
