package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// cmdTimeout bounds every inv process (and the build), so that a hang
// fails the test instead of stalling CI.
const cmdTimeout = 2 * time.Minute

// invBin is the inv binary TestMain builds once for the whole package.
var invBin string

// buildTook is how long TestMain's go build took (logged by the seeding helper).
var buildTook time.Duration

// tmpRoot holds the binary and the seeded template store; removed after the run.
var tmpRoot string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "inv-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	tmpRoot = dir
	exe := ""
	if runtime.GOOS == "windows" {
		exe = ".exe"
	}
	invBin = filepath.Join(dir, "inv"+exe)
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go"+exe)
	if _, err := os.Stat(goBin); err != nil {
		if p, lerr := exec.LookPath("go"); lerr == nil {
			goBin = p
		}
	}
	// A cold build of modernc.org/sqlite takes about a minute on two cores.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	build := exec.CommandContext(ctx, goBin, "build", "-o", invBin, "github.com/inv-cli/inv")
	build.Env = os.Environ()
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build github.com/inv-cli/inv: %v\n%s", err, out)
		return 1
	}
	buildTook = time.Since(start)
	return m.Run()
}

// store is one inv database file with its own hermetic environment.
type store struct {
	dir string // the test's temp dir: HOME, XDG dirs, CSV files
	db  string // INV_DB
}

func newStore(t testing.TB) *store {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"home", "config", "data"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	return &store{dir: dir, db: filepath.Join(dir, "data", "inv.db")}
}

// environ is the whole environment of an inv process: nothing leaks in from
// the developer's machine (config file, INV_* variables, $USER).
func (s *store) environ() []string {
	return []string{
		"INV_DB=" + s.db,
		"XDG_CONFIG_HOME=" + filepath.Join(s.dir, "config"),
		"XDG_DATA_HOME=" + filepath.Join(s.dir, "data"),
		"HOME=" + filepath.Join(s.dir, "home"),
		"USER=tester",
		"PATH=" + os.Getenv("PATH"),
	}
}

func (s *store) path(name string) string { return filepath.Join(s.dir, name) }

// result is how one inv process ended.
type result struct {
	args   []string
	code   int // exit code; -1 when killed by a signal or not started
	stdout string
	stderr string
	dur    time.Duration
	err    error // a start failure or timeout; nil for any normal exit
}

func (r result) String() string {
	return fmt.Sprintf("inv %s: exit %d after %v\nstderr: %s", strings.Join(r.args, " "), r.code, r.dur.Round(time.Millisecond), r.stderr)
}

func exitResult(args []string, err error, stdout, stderr string, dur time.Duration) result {
	r := result{args: args, stdout: stdout, stderr: stderr, dur: dur}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
		if r.code < 0 {
			r.err = err
		}
	default:
		r.code, r.err = -1, err
	}
	return r
}

// run runs inv to completion. It does not touch t, so goroutines may call it.
func (s *store) run(args ...string) result {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, invBin, args...)
	cmd.Env = s.environ()
	cmd.Dir = s.dir
	cmd.WaitDelay = 5 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := exitResult(args, err, out.String(), errb.String(), time.Since(start))
	if ctx.Err() != nil {
		r.err = fmt.Errorf("timed out after %v: %w", cmdTimeout, ctx.Err())
	}
	return r
}

// ok runs inv and fails the test unless it exits 0 without a lock error.
func (s *store) ok(t testing.TB, args ...string) result {
	t.Helper()
	r := s.run(args...)
	if r.code != 0 || r.err != nil {
		t.Fatalf("%v (err %v)", r, r.err)
	}
	if msg := lockError(r.stderr); msg != "" {
		t.Fatalf("inv %s: stderr reports a lock error: %q", strings.Join(args, " "), msg)
	}
	return r
}

// okJSON runs inv -o json and decodes stdout into v.
func (s *store) okJSON(t testing.TB, v any, args ...string) {
	t.Helper()
	r := s.ok(t, append([]string{"-o", "json"}, args...)...)
	if err := json.Unmarshal([]byte(r.stdout), v); err != nil {
		t.Fatalf("inv %s: decoding stdout: %v\n%s", strings.Join(args, " "), err, r.stdout)
	}
}

// lockError returns the first line of stderr that reports SQLite contention
// ("database is locked", SQLITE_BUSY, inv's "the database is busy"). --debug
// lines are skipped: they may legitimately mention busy_timeout.
func lockError(stderr string) string {
	for _, line := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(line, "inv: debug:") {
			continue
		}
		l := strings.ToLower(line)
		if strings.Contains(l, "locked") || strings.Contains(l, "busy") {
			return line
		}
	}
	return ""
}

// proc is an inv process running in the background whose stderr the test
// watches line by line (for the --debug phase markers of an import).
type proc struct {
	args    []string
	cmd     *exec.Cmd
	cancel  context.CancelFunc
	stderr  *lineWatch
	stdout  *bytes.Buffer // nil: stdout went to the null device
	started time.Time
	done    chan struct{}
	res     result
}

// start starts inv in the background. With keepStdout false its stdout (an
// import's 200,000-row change listing) goes to the null device.
func (s *store) start(t testing.TB, stdin io.Reader, keepStdout bool, args ...string) *proc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	cmd := exec.CommandContext(ctx, invBin, args...)
	cmd.Env = s.environ()
	cmd.Dir = s.dir
	cmd.WaitDelay = 5 * time.Second
	cmd.Stdin = stdin
	p := &proc{args: args, cmd: cmd, cancel: cancel, stderr: &lineWatch{}, done: make(chan struct{})}
	if keepStdout {
		p.stdout = &bytes.Buffer{}
		cmd.Stdout = p.stdout
	}
	cmd.Stderr = p.stderr
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start inv %s: %v", strings.Join(args, " "), err)
	}
	go func() {
		err := cmd.Wait()
		out := ""
		if p.stdout != nil {
			out = p.stdout.String()
		}
		p.res = exitResult(args, err, out, p.stderr.String(), time.Since(p.started))
		if ctx.Err() != nil {
			p.res.err = fmt.Errorf("timed out after %v: %w", cmdTimeout, ctx.Err())
		}
		cancel()
		close(p.done)
	}()
	t.Cleanup(func() {
		// A test that failed half-way must not leave a process behind.
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// waitFor waits until stderr has a line containing s and returns when the
// test saw it. It fails the test if the process ends first or within timeout
// nothing comes.
func (p *proc) waitFor(t testing.TB, s string, timeout time.Duration) time.Time {
	t.Helper()
	ch := p.stderr.await(s)
	select {
	case at := <-ch:
		return at
	case <-p.done:
		select {
		case at := <-ch:
			return at
		default:
		}
		t.Fatalf("inv %s ended before printing %q: %v", strings.Join(p.args, " "), s, p.res)
	case <-time.After(timeout):
		t.Fatalf("inv %s: no %q on stderr within %v; stderr so far:\n%s", strings.Join(p.args, " "), s, timeout, p.stderr.String())
	}
	return time.Time{}
}

// wait waits for the process to end.
func (p *proc) wait() result {
	<-p.done
	return p.res
}

// kill sends SIGKILL and waits for the process to end.
func (p *proc) kill(t testing.TB) result {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatalf("kill: %v", err)
	}
	return p.wait()
}

// lineWatch is a process's stderr: it keeps the text and wakes waiters when
// a line containing their string arrives, with the time it arrived.
type lineWatch struct {
	mu      sync.Mutex
	buf     []byte
	lines   []seenLine
	waiters []lineWaiter
}

type seenLine struct {
	at   time.Time
	text string
}

type lineWaiter struct {
	s  string
	ch chan time.Time
}

func (w *lineWatch) Write(b []byte) (int, error) {
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, b...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		line := string(w.buf[:i])
		w.buf = w.buf[i+1:]
		w.lines = append(w.lines, seenLine{at: now, text: line})
		kept := w.waiters[:0]
		for _, wt := range w.waiters {
			if strings.Contains(line, wt.s) {
				wt.ch <- now
			} else {
				kept = append(kept, wt)
			}
		}
		w.waiters = kept
	}
	return len(b), nil
}

func (w *lineWatch) await(s string) <-chan time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	ch := make(chan time.Time, 1)
	for _, l := range w.lines {
		if strings.Contains(l.text, s) {
			ch <- l.at
			return ch
		}
	}
	w.waiters = append(w.waiters, lineWaiter{s: s, ch: ch})
	return ch
}

// seen returns when the first line containing s arrived.
func (w *lineWatch) seen(s string) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, l := range w.lines {
		if strings.Contains(l.text, s) {
			return l.at, true
		}
	}
	return time.Time{}, false
}

// String is everything written so far, complete lines first.
func (w *lineWatch) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var b strings.Builder
	for _, l := range w.lines {
		b.WriteString(l.text)
		b.WriteByte('\n')
	}
	b.Write(w.buf)
	return b.String()
}

// --- direct reads of the database file, for checks the CLI cannot express ---

// openDB opens the store's file with the same driver inv uses, refusing writes.
func (s *store) openDB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+s.db+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	return db
}

func queryInt(t testing.TB, db *sql.DB, q string, args ...any) int64 {
	t.Helper()
	var n sql.NullInt64
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n.Int64
}

// snapshot is the part of a store a stock change can touch.
type snapshot struct {
	stock     map[int64]int64 // products.pk -> stock, every product
	movements int64
	maxMoveID int64
	imports   int64
}

func (s *store) snapshot(t testing.TB) snapshot {
	t.Helper()
	db := s.openDB(t)
	defer db.Close()
	snap := snapshot{stock: map[int64]int64{}}
	rows, err := db.Query(`SELECT pk, stock FROM products`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var pk, st int64
		if err := rows.Scan(&pk, &st); err != nil {
			t.Fatal(err)
		}
		snap.stock[pk] = st
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	snap.movements = queryInt(t, db, `SELECT count(*) FROM movements`)
	snap.maxMoveID = queryInt(t, db, `SELECT max(id) FROM movements`)
	snap.imports = queryInt(t, db, `SELECT count(*) FROM imports`)
	return snap
}

// sameAs fails the test unless b equals a in every product's stock, the
// ledger and the import log.
func (a snapshot) sameAs(t testing.TB, b snapshot, what string) {
	t.Helper()
	if len(a.stock) != len(b.stock) {
		t.Errorf("%s: %d products before, %d after", what, len(a.stock), len(b.stock))
	}
	changed := 0
	for pk, st := range a.stock {
		if got, ok := b.stock[pk]; !ok || got != st {
			if changed < 5 {
				t.Errorf("%s: product pk %d: stock %d before, %d after (present %v)", what, pk, st, got, ok)
			}
			changed++
		}
	}
	if changed > 0 {
		t.Errorf("%s: %d of %d products changed stock", what, changed, len(a.stock))
	}
	if a.movements != b.movements || a.maxMoveID != b.maxMoveID {
		t.Errorf("%s: ledger had %d rows (max id %d), now %d (max id %d)", what, a.movements, a.maxMoveID, b.movements, b.maxMoveID)
	}
	if a.imports != b.imports {
		t.Errorf("%s: import log had %d rows, now %d", what, a.imports, b.imports)
	}
}

// --- JSON shapes of inv's output (the API's camelCase objects) ---

type product struct {
	ID             string `json:"id"`
	SKU            string `json:"sku"`
	Stock          int64  `json:"stock"`
	TrackStock     bool   `json:"trackStock"`
	AllowBackorder bool   `json:"allowBackorder"`
}

type movement struct {
	ID         int64  `json:"id"`
	SKU        string `json:"sku"`
	Delta      int64  `json:"delta"`
	StockAfter int64  `json:"stockAfter"`
	Reason     string `json:"reason"`
	Source     string `json:"source"`
	Actor      string `json:"actor"`
}

type stockChange struct {
	SKU     string  `json:"sku"`
	Before  int64   `json:"before"`
	Delta   int64   `json:"delta"`
	After   int64   `json:"after"`
	Changed bool    `json:"changed"`
	Product product `json:"product"`
}

func (s *store) stockOf(t testing.TB, sku string) int64 {
	t.Helper()
	var p product
	s.okJSON(t, &p, "stock", "get", sku)
	return p.Stock
}

func (s *store) history(t testing.TB, sku string) []movement {
	t.Helper()
	var ms []movement
	s.okJSON(t, &ms, "stock", "history", sku, "--limit", "1000")
	return ms
}

// runAll starts n goroutines that each run fn(i) once all of them are ready
// (a barrier), and waits for them.
func runAll(n int, fn func(i int)) {
	var ready, done sync.WaitGroup
	gate := make(chan struct{})
	ready.Add(n)
	for i := range n {
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-gate
			fn(i)
		}()
	}
	ready.Wait()
	close(gate)
	done.Wait()
}
