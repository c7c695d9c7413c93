package http

import "unsafe"

// strArena is an append-only store of bytes that become strings without a
// copy. copyBytes hands out a fresh region (its bytes are written once, by
// the caller, before view); view turns a region into a string. A region is
// never handed out twice and never written after view, so the string is
// immutable as Go requires; the garbage collector keeps a chunk alive
// while any string into it lives, so a string kept by a handler stays
// valid (and keeps its chunk, a few KiB, alive).
type strArena struct {
	buf []byte // the free tail of the current chunk
}

// arenaChunk is the size of a fresh chunk; larger heads get a chunk of
// their own size.
const arenaChunk = 8 << 10

// copyBytes returns a new region holding a copy of b.
func (a *strArena) copyBytes(b []byte) []byte {
	if len(b) > cap(a.buf) {
		a.buf = make([]byte, 0, max(arenaChunk, len(b)))
	}
	r := a.buf[:len(b):len(b)]
	copy(r, b)
	a.buf = a.buf[len(b):len(b)]
	if cap(a.buf) < 64 {
		a.buf = nil // too small to be worth another head
	}
	return r
}

// view returns region r, which copyBytes returned and which nobody writes
// any more, as a string.
func (a *strArena) view(r []byte) string {
	if len(r) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(r), len(r))
}
