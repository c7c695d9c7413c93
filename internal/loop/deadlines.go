package loop

// DeadlineItem is what a Deadlines heap holds: a deadline, and a place to
// keep its index in the heap (-1 once removed).
type DeadlineItem interface {
	Deadline() int64
	SetIndex(i int)
}

// Deadlines is a binary min-heap on deadlines whose items know their own
// index, so one can be removed or moved without a search. Timer sets (a
// loop's, and the Background set) keep their timers in one.
// It does no locking.
type Deadlines[T DeadlineItem] struct {
	items []T
}

// Len returns the number of items.
func (h *Deadlines[T]) Len() int { return len(h.items) }

// Min returns the item with the earliest deadline; the heap must not be
// empty.
func (h *Deadlines[T]) Min() T { return h.items[0] }

// Items returns the items in heap order (for a final sweep).
func (h *Deadlines[T]) Items() []T { return h.items }

// Reset empties the heap without touching the items.
func (h *Deadlines[T]) Reset() { h.items = nil }

// Push adds x.
func (h *Deadlines[T]) Push(x T) {
	i := len(h.items)
	h.items = append(h.items, x)
	x.SetIndex(i)
	h.up(i)
}

// Fix restores the order after the deadline of the item at i changed.
func (h *Deadlines[T]) Fix(i int) {
	if !h.down(i) {
		h.up(i)
	}
}

// Remove takes out the item at i and sets its index to -1.
func (h *Deadlines[T]) Remove(i int) T {
	last := len(h.items) - 1
	x := h.items[i]
	if i != last {
		h.items[i] = h.items[last]
		h.items[i].SetIndex(i)
	}
	var zero T
	h.items[last] = zero
	h.items = h.items[:last]
	if i != last {
		h.Fix(i)
	}
	x.SetIndex(-1)
	return x
}

func (h *Deadlines[T]) less(i, j int) bool { return h.items[i].Deadline() < h.items[j].Deadline() }

func (h *Deadlines[T]) swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.items[i].SetIndex(i)
	h.items[j].SetIndex(j)
}

func (h *Deadlines[T]) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			break
		}
		h.swap(i, p)
		i = p
	}
}

func (h *Deadlines[T]) down(i int) bool {
	start := i
	n := len(h.items)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && h.less(r, l) {
			m = r
		}
		if !h.less(m, i) {
			break
		}
		h.swap(i, m)
		i = m
	}
	return i > start
}
