package e2e

import (
	"sort"
	"strings"
	"testing"
	"time"
)

const (
	adjustProcs = 8  // inv processes running at once
	adjustEach  = 50 // adjusts each of them runs, one after another
)

// TestConcurrentAdjusts: 8 loops of 50 `inv stock adjust X +1`, started
// together. Every one must succeed without a lock error, and the ledger must
// show each stock level 1..400 exactly once: no update lost, none applied
// twice, each adjust seeing the one before it.
func TestConcurrentAdjusts(t *testing.T) {
	s := newStore(t)
	s.ok(t, "product", "create", "--title", "Concurrent X", "--sku", "X", "--stock", "0", "--track-stock")
	createdRows := len(s.history(t, "X"))

	results := make([][]result, adjustProcs)
	start := time.Now()
	runAll(adjustProcs, func(p int) {
		for range adjustEach {
			results[p] = append(results[p], s.run("stock", "adjust", "X", "+1"))
		}
	})
	elapsed := time.Since(start)

	var slowest time.Duration
	for p, rs := range results {
		for i, r := range rs {
			if r.code != 0 || r.err != nil {
				t.Errorf("process loop %d, adjust %d: %v (err %v)", p, i, r, r.err)
			}
			if msg := lockError(r.stderr); msg != "" {
				t.Errorf("process loop %d, adjust %d: lock error on stderr: %q", p, i, msg)
			}
			slowest = max(slowest, r.dur)
		}
	}
	total := adjustProcs * adjustEach
	t.Logf("%d adjusts from %d concurrent loops in %v (slowest single adjust %v)", total, adjustProcs, elapsed.Round(time.Millisecond), slowest.Round(time.Millisecond))

	if got := s.stockOf(t, "X"); got != int64(total) {
		t.Errorf("final stock = %d, want %d", got, total)
	}

	ms := s.history(t, "X")
	t.Logf("ledger: %d rows (%d from product create)", len(ms), createdRows)
	if len(ms) != total+createdRows {
		t.Errorf("ledger has %d rows, want %d adjusts + %d from create", len(ms), total, createdRows)
	}
	for i, m := range ms[:min(createdRows, len(ms))] {
		if m.StockAfter != 0 || m.Reason == "adjust" {
			t.Errorf("ledger row %d (before the adjusts) = %+v, want the creation row at stock 0", i, m)
		}
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].ID < ms[j].ID })
	seen := map[int64]int{}
	var adjusts []movement
	for _, m := range ms {
		if m.Reason != "adjust" {
			continue
		}
		adjusts = append(adjusts, m)
		seen[m.StockAfter]++
		if m.Delta != 1 || m.Actor != "tester" || m.Source != "cli" {
			t.Errorf("ledger row %+v: want delta 1 by tester from cli", m)
		}
	}
	if len(adjusts) != total {
		t.Errorf("ledger has %d adjust rows, want %d", len(adjusts), total)
	}
	for v := int64(1); v <= int64(total); v++ {
		if seen[v] != 1 {
			t.Errorf("stockAfter %d appears %d times in the ledger, want once", v, seen[v])
		}
	}
	// In commit order (ledger id), each adjust saw the previous one.
	for i, m := range adjusts {
		if m.StockAfter != int64(i+1) {
			t.Errorf("adjust #%d in ledger order (id %d) has stockAfter %d, want %d", i+1, m.ID, m.StockAfter, i+1)
			break
		}
	}
}

// TestConcurrentAdjustsNeverOversell: 50 units, no backorder, 80 concurrent
// `adjust -1`: exactly 50 succeed, 30 are refused with exit 5 at stock 0,
// and stock is never negative at any point of the ledger.
func TestConcurrentAdjustsNeverOversell(t *testing.T) {
	const (
		initial = 50
		procs   = 8
		each    = 10
	)
	s := newStore(t)
	s.ok(t, "product", "create", "--title", "Scarce X", "--sku", "X", "--stock", "50", "--track-stock")
	before := s.history(t, "X")

	results := make([][]result, procs)
	start := time.Now()
	runAll(procs, func(p int) {
		for range each {
			results[p] = append(results[p], s.run("stock", "adjust", "X", "-1"))
		}
	})
	t.Logf("%d adjusts from %d concurrent loops in %v", procs*each, procs, time.Since(start).Round(time.Millisecond))

	succeeded, refused := 0, 0
	for p, rs := range results {
		for i, r := range rs {
			if msg := lockError(r.stderr); msg != "" {
				t.Errorf("loop %d, adjust %d: lock error on stderr: %q", p, i, msg)
			}
			switch {
			case r.err != nil:
				t.Errorf("loop %d, adjust %d: %v (err %v)", p, i, r, r.err)
			case r.code == 0:
				succeeded++
			case r.code == 5:
				refused++
				// Refused only once stock had really run out.
				if !strings.Contains(r.stderr, "stock of 0") {
					t.Errorf("loop %d, adjust %d: refused, but not at stock 0: %s", p, i, r.stderr)
				}
			default:
				t.Errorf("loop %d, adjust %d: %v", p, i, r)
			}
		}
	}
	if succeeded != initial || refused != procs*each-initial {
		t.Errorf("%d adjusts succeeded and %d were refused (exit 5), want %d and %d", succeeded, refused, initial, procs*each-initial)
	}
	if got := s.stockOf(t, "X"); got != 0 {
		t.Errorf("final stock = %d, want 0", got)
	}

	ms := s.history(t, "X")
	if len(ms) != len(before)+initial {
		t.Errorf("ledger has %d rows, want %d from create + %d adjusts", len(ms), len(before), initial)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].ID < ms[j].ID })
	want := int64(initial)
	for _, m := range ms {
		if m.StockAfter < 0 {
			t.Errorf("ledger row %+v: stock went negative", m)
		}
		if m.Reason != "adjust" {
			continue
		}
		want--
		if m.Delta != -1 || m.StockAfter != want {
			t.Errorf("ledger row %+v: want delta -1, stockAfter %d", m, want)
		}
	}
	if want != 0 {
		t.Errorf("ledger adjusts end at %d, want 0", want)
	}
}
