package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// phaseTimeout bounds waiting for an import's --debug phase markers.
const phaseTimeout = 90 * time.Second

// logImport logs what an import's --debug output says about its phases.
func logImport(t testing.TB, name string, r result) {
	t.Helper()
	t.Logf("%s: exit %d after %v; staging %v, write lock held %v (resolve %v)", name, r.code, r.dur.Round(time.Millisecond),
		debugDuration(r.stderr, "rows in "), debugDuration(r.stderr, "import: committed in "),
		debugDuration(r.stderr, "problems (resolved in "))
}

// TestAdjustWaitsForLongImport: an adjust started while a big import holds
// the write lock waits for it (busy timeout, BEGIN IMMEDIATE) instead of
// failing, and is applied after it: it sees the imported value.
func TestAdjustWaitsForLongImport(t *testing.T) {
	s := bigStore(t)
	file := s.path("big.csv")
	writeStockFile(t, file, seedN, bigValue)
	const i = 123_456
	sku := skuOf(i)

	imp := s.start(t, nil, false, "--debug", "bulk", "import", file)
	applyingAt := imp.waitFor(t, "import: applying", phaseTimeout)
	adjStart := time.Now()
	adj := s.run("-o", "json", "stock", "adjust", sku, "+1")
	impRes := imp.wait()

	logImport(t, "import", impRes)
	if impRes.code != 0 || impRes.err != nil {
		t.Fatalf("import: %v (err %v)", impRes, impRes.err)
	}
	committedAt, ok := imp.stderr.seen("import: committed")
	if !ok {
		t.Fatalf("import exited 0 without --debug's \"import: committed\":\n%s", impRes.stderr)
	}
	t.Logf("adjust started %v after the import took the lock and ran %v; the import's commit was seen %v after the adjust started",
		adjStart.Sub(applyingAt).Round(time.Millisecond), adj.dur.Round(time.Millisecond), committedAt.Sub(adjStart).Round(time.Millisecond))
	if adj.code != 0 || adj.err != nil {
		t.Fatalf("adjust during the import must wait, not fail: %v (err %v)", adj, adj.err)
	}
	for _, r := range []result{impRes, adj} {
		if msg := lockError(r.stderr); msg != "" {
			t.Errorf("inv %s: lock error on stderr: %q", strings.Join(r.args, " "), msg)
		}
	}
	if !adjStart.Before(committedAt) {
		t.Errorf("the import committed before the adjust was started: this run did not test waiting for the lock")
	}

	var ch stockChange
	if err := json.Unmarshal([]byte(adj.stdout), &ch); err != nil {
		t.Fatalf("adjust output: %v\n%s", err, adj.stdout)
	}
	if ch.Before != bigValue(i) || ch.After != bigValue(i)+1 {
		t.Errorf("adjust went %d → %d, want %d → %d: it must apply after the import that held the lock", ch.Before, ch.After, bigValue(i), bigValue(i)+1)
	}
	if got := s.stockOf(t, sku); got != bigValue(i)+1 {
		t.Errorf("final stock of %s = %d, want imported %d + 1", sku, got, bigValue(i))
	}
	ms := s.history(t, sku)
	if len(ms) != 2 || ms[0].Source != "import:big.csv" || ms[0].StockAfter != bigValue(i) ||
		ms[1].Reason != "adjust" || ms[1].StockAfter != bigValue(i)+1 || ms[1].Delta != 1 || ms[0].ID >= ms[1].ID {
		t.Errorf("history of %s = %+v, want the import's row (stockAfter %d) then the adjust's (stockAfter %d)", sku, ms, bigValue(i), bigValue(i)+1)
	}

	db := s.openDB(t)
	defer db.Close()
	if n := countAt(t, db, 1000); n != seedN-1 {
		t.Errorf("%d products at the imported value, want %d (all but the adjusted one)", n, seedN-1)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM movements WHERE source = 'import:big.csv'`); n != seedN {
		t.Errorf("the import wrote %d ledger rows, want %d", n, seedN)
	}
}

// killed fails the test unless r is a process ended by SIGKILL.
func killed(t testing.TB, p *proc, r result) {
	t.Helper()
	ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("inv %s was meant to die by SIGKILL, but: %v", strings.Join(p.args, " "), r)
	}
}

// TestKilledImportChangesNothing: SIGKILL an import while it stages the file
// (no lock held), right after it takes the write lock, and later in the apply
// once uncommitted pages are in the WAL: each time no product, ledger row or
// import record may change; then the next import must find no stale lock and
// apply everything.
func TestKilledImportChangesNothing(t *testing.T) {
	s := bigStore(t)
	file := s.path("big.csv")
	writeStockFile(t, file, seedN, bigValue)
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	before := s.snapshot(t)

	t.Run("while staging", func(t *testing.T) {
		// The file comes on stdin and its second half is held back, so the
		// process is certainly inside staging (it has not seen EOF) when killed.
		pr, pw := io.Pipe()
		imp := s.start(t, pr, false, "--debug", "bulk", "import", "-")
		half := bytes.IndexByte(data[len(data)/2:], '\n') + len(data)/2 + 1
		wrote := make(chan error, 1)
		go func() {
			_, err := pw.Write(data[:half])
			wrote <- err
		}()
		select {
		case err := <-wrote:
			if err != nil {
				t.Fatalf("writing the first half to stdin: %v", err)
			}
		case <-imp.done:
			t.Fatalf("import ended while still being fed: %v", imp.res)
		case <-time.After(phaseTimeout):
			t.Fatalf("import did not read the first half of the file within %v", phaseTimeout)
		}
		seen := imp.stderr.String()
		if err := imp.cmd.Process.Kill(); err != nil {
			t.Fatalf("kill: %v", err)
		}
		pw.Close() // ends exec's stdin copier, which Wait waits for
		r := imp.wait()
		killed(t, imp, r)
		if strings.Contains(seen, "import: staged") || strings.Contains(seen, "import: applying") {
			t.Fatalf("import got past staging before the kill:\n%s", seen)
		}
		t.Logf("killed after it read %d of %d bytes, %v after start", half, len(data), r.dur.Round(time.Millisecond))
		before.sameAs(t, s.snapshot(t), "after killing the import while staging")
	})

	t.Run("while applying", func(t *testing.T) {
		imp := s.start(t, nil, false, "--debug", "bulk", "import", file)
		applying := imp.waitFor(t, "import: applying", phaseTimeout)
		r := imp.kill(t)
		killedAt := time.Now()
		killed(t, imp, r)
		if strings.Contains(r.stderr, "import: committed") {
			t.Fatalf("the import committed before the kill, so this run did not test a kill under the lock:\n%s", r.stderr)
		}
		t.Logf("killed %v after it took the write lock (staging took %v)", killedAt.Sub(applying).Round(time.Millisecond), debugDuration(r.stderr, "rows in "))
		before.sameAs(t, s.snapshot(t), "after killing the import while it held the write lock")
	})
	t.Run("while writing", func(t *testing.T) {
		// Later in the apply, once the transaction has spilled uncommitted
		// pages into the WAL (a change this size outgrows the page cache):
		// kill when the WAL has grown 1 MiB, or when inv --debug prints
		// "ledger insert:" (ledger written, products not yet), whichever
		// comes first.
		imp := s.start(t, nil, false, "--debug", "bulk", "import", file)
		applying := imp.waitFor(t, "import: applying", phaseTimeout)
		walAtLock := fileSize(s.db + "-wal")
		marker := "the \"ledger insert:\" line"
		ledger := imp.stderr.await("ledger insert:")
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
	wait:
		for {
			select {
			case <-ledger:
				break wait
			case <-imp.done:
				t.Fatalf("the import ended before it wrote anything to kill: %v", imp.res)
			case <-tick.C:
				if fileSize(s.db+"-wal") >= max(walAtLock, 0)+1<<20 {
					marker = "the WAL growing 1 MiB"
					break wait
				}
			}
		}
		wal := fileSize(s.db + "-wal")
		r := imp.kill(t)
		killedAt := time.Now()
		killed(t, imp, r)
		if strings.Contains(r.stderr, "import: committed") {
			t.Fatalf("the import committed before the kill, so this run did not test a kill under the lock:\n%s", r.stderr)
		}
		t.Logf("killed %v after it took the write lock (by %s; WAL %d bytes when it took the lock, %d at the kill)",
			killedAt.Sub(applying).Round(time.Millisecond), marker, walAtLock, wal)
		before.sameAs(t, s.snapshot(t), "after killing the import while it wrote under the lock")
	})
	if t.Failed() {
		return
	}

	// The next import: no stale lock, no "database is locked", everything applied.
	r := s.run("--debug", "bulk", "import", file)
	logImport(t, "import after the kills", r)
	if r.code != 0 || r.err != nil {
		t.Fatalf("import after the kills: %v (err %v)", r, r.err)
	}
	if msg := lockError(r.stderr); msg != "" {
		t.Errorf("import after the kills: lock error on stderr: %q", msg)
	}
	after := s.snapshot(t)
	if after.movements != before.movements+seedN || after.imports != before.imports+1 {
		t.Errorf("after the import: %d ledger rows and %d imports, want %d and %d", after.movements, after.imports, before.movements+seedN, before.imports+1)
	}
	db := s.openDB(t)
	defer db.Close()
	if n := countAt(t, db, 1000); n != seedN {
		t.Errorf("%d products at the imported value, want %d", n, seedN)
	}
	if !strings.Contains(r.stderr, fmt.Sprintf("changed %d, unchanged 0", seedN)) {
		t.Errorf("import summary does not say every row changed:\n%s", r.stderr)
	}
}

// TestTwoImportsSerialize: two imports of different set-mode files started
// together both succeed; one applies entirely after the other, the final
// state is the later one's, and the later one saw the earlier one's values.
func TestTwoImportsSerialize(t *testing.T) {
	// A quarter of the big store: enough for both imports to stage at once
	// and one to wait on the other's lock, at a quarter of the time.
	const n = seedN / 4
	s := bigStore(t)
	files := map[string]func(int) int64{"a.csv": aValue, "b.csv": bValue}
	base := map[string]int64{"a.csv": 2000, "b.csv": 3000}
	for name, v := range files {
		writeStockFile(t, s.path(name), n, v)
	}
	pa := s.start(t, nil, false, "--debug", "bulk", "import", s.path("a.csv"))
	pb := s.start(t, nil, false, "--debug", "bulk", "import", s.path("b.csv"))
	ra, rb := pa.wait(), pb.wait()
	logImport(t, "a.csv", ra)
	logImport(t, "b.csv", rb)
	for _, r := range []result{ra, rb} {
		if r.code != 0 || r.err != nil {
			t.Errorf("%v (err %v)", r, r.err)
		}
		if msg := lockError(r.stderr); msg != "" {
			t.Errorf("inv %s: lock error on stderr: %q", strings.Join(r.args, " "), msg)
		}
	}
	if t.Failed() {
		return
	}
	t0 := pa.started
	if pb.started.Before(t0) {
		t0 = pb.started
	}
	for _, p := range []*proc{pa, pb} {
		var phases []string
		for _, m := range []string{"import: staged", "import: applying", "import: committed"} {
			if at, ok := p.stderr.seen(m); ok {
				phases = append(phases, fmt.Sprintf("%s +%v", strings.TrimPrefix(m, "import: "), at.Sub(t0).Round(time.Millisecond)))
			}
		}
		t.Logf("%s: %s", filepath.Base(p.args[len(p.args)-1]), strings.Join(phases, ", "))
	}
	// They really ran at the same time: both were started before either committed.
	for _, p := range []*proc{pa, pb} {
		at, ok := p.stderr.seen("import: committed")
		if !ok {
			t.Fatalf("inv %s exited 0 without --debug's \"import: committed\"", strings.Join(p.args, " "))
		}
		if !pa.started.Before(at) || !pb.started.Before(at) {
			t.Errorf("an import committed before the other was started: not concurrent")
		}
	}

	db := s.openDB(t)
	defer db.Close()
	type span struct {
		name          string
		n, minID, max int64
		products      int64
	}
	var spans []span
	for name := range files {
		src := "import:" + name
		sp := span{name: name,
			n:        queryInt(t, db, `SELECT count(*) FROM movements WHERE source = ?`, src),
			minID:    queryInt(t, db, `SELECT min(id) FROM movements WHERE source = ?`, src),
			max:      queryInt(t, db, `SELECT max(id) FROM movements WHERE source = ?`, src),
			products: queryInt(t, db, `SELECT count(DISTINCT product_pk) FROM movements WHERE source = ?`, src),
		}
		if sp.n != n || sp.products != n {
			t.Errorf("%s wrote %d ledger rows for %d products, want one row for each of %d", name, sp.n, sp.products, n)
		}
		spans = append(spans, sp)
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].minID < spans[j].minID })
	first, last := spans[0], spans[1]
	t.Logf("%s committed first (ledger ids %d..%d), %s last (%d..%d)", first.name, first.minID, first.max, last.name, last.minID, last.max)
	if first.max >= last.minID {
		t.Errorf("the two imports' ledger rows interleave: %s %d..%d, %s %d..%d", first.name, first.minID, first.max, last.name, last.minID, last.max)
	}
	if got := countAt(t, db, base[last.name]); got != n {
		t.Errorf("%d products hold %s's value, want all %d in the files (it committed last)", got, last.name, n)
	}
	// The later import planned against the earlier one's committed values.
	if got := queryInt(t, db, `SELECT count(*) FROM movements WHERE source = ? AND delta != ?`,
		"import:"+last.name, base[last.name]-base[first.name]); got != 0 {
		t.Errorf("%d of %s's ledger rows have a delta that ignores %s's values", got, last.name, first.name)
	}
	if got := queryInt(t, db, `SELECT count(*) FROM (SELECT product_pk FROM movements WHERE source IN (?, ?)
		GROUP BY product_pk HAVING count(*) != 2 OR count(DISTINCT source) != 2)`, "import:a.csv", "import:b.csv"); got != 0 {
		t.Errorf("%d products do not have exactly one ledger row from each import", got)
	}

	const i = 4242
	ms := s.history(t, skuOf(i))
	if len(ms) != 2 || ms[0].Source != "import:"+first.name || ms[1].Source != "import:"+last.name ||
		ms[0].StockAfter != files[first.name](i) || ms[1].StockAfter != files[last.name](i) {
		t.Errorf("history of %s = %+v, want %s's row then %s's", skuOf(i), ms, first.name, last.name)
	}
}

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return -1
	}
	return st.Size()
}
