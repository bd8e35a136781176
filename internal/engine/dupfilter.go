package engine

import "hash/maphash"

// dupFilter finds SKUs that may appear more than once in a file while it
// streams, in fixed memory: a Bloom filter of 2^27 bits (16 MiB) whatever the
// file's length. A key seen before always reports true (no false negatives),
// so every real duplicate becomes a candidate; the few false candidates are
// weeded out by an exact SQL check over the candidates only. This replaces
// a GROUP BY over every staged row (a sort of a million strings) with
// hashing in Go.
type dupFilter struct {
	bits []uint64
	seed maphash.Seed
	cand map[string]struct{}
}

const (
	dupFilterBits   = 1 << 27
	dupFilterHashes = 4
)

func newDupFilter() *dupFilter {
	return &dupFilter{bits: make([]uint64, dupFilterBits/64), seed: maphash.MakeSeed(), cand: map[string]struct{}{}}
}

// add records key and reports whether it may have been added before.
func (f *dupFilter) add(key string) bool {
	h := maphash.String(f.seed, key)
	h1, h2 := h, h>>33|h<<31|1
	seen := true
	for i := uint64(0); i < dupFilterHashes; i++ {
		b := (h1 + i*h2) & (dupFilterBits - 1)
		w, m := b/64, uint64(1)<<(b%64)
		if f.bits[w]&m == 0 {
			seen = false
			f.bits[w] |= m
		}
	}
	if seen {
		f.cand[key] = struct{}{}
	}
	return seen
}
