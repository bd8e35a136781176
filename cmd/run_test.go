package cmd_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/inv-cli/inv/cmd"
	"github.com/inv-cli/inv/internal/backend"
	"github.com/inv-cli/inv/internal/inventory"
)

// invEnv is one user's machine for command tests: a database, config and
// data directories in a temp dir, and a fake environment. Every run builds a
// fresh Factory, like a new process would, over the same files.
type invEnv struct {
	t   *testing.T
	env map[string]string
	// open replaces backend.Open when set (to simulate a backend that is
	// unavailable or broken).
	open func(ctx context.Context, o backend.Options) (backend.Backend, error)
}

func newInvEnv(t *testing.T) *invEnv {
	t.Helper()
	dir := t.TempDir()
	return &invEnv{t: t, env: map[string]string{
		"INV_DB":          filepath.Join(dir, "inv.db"),
		"XDG_CONFIG_HOME": filepath.Join(dir, "config"),
		"XDG_DATA_HOME":   filepath.Join(dir, "data"),
		"HOME":            filepath.Join(dir, "home"),
		"USER":            "tester",
	}}
}

func (e *invEnv) getenv(k string) (string, bool) {
	v, ok := e.env[k]
	return v, ok
}

// result is what a user sees of one run.
type result struct {
	code        int
	out, errOut string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", r.code, r.out, r.errOut)
}

type runOpts struct {
	ctx       context.Context
	stdin     string
	stdoutTTY bool
	stderrTTY bool
}

func (e *invEnv) runWith(o runOpts, args ...string) result {
	e.t.Helper()
	var out, errOut bytes.Buffer
	open := e.open
	if open == nil {
		open = backend.Open
	}
	f := &cmd.Factory{
		In:          strings.NewReader(o.stdin),
		Out:         &out,
		Err:         &errOut,
		Getenv:      e.getenv,
		StdoutTTY:   o.stdoutTTY,
		StderrTTY:   o.stderrTTY,
		OpenBackend: open,
	}
	ctx := o.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	code := cmd.Run(ctx, f, args)
	return result{code: code, out: out.String(), errOut: errOut.String()}
}

func (e *invEnv) run(args ...string) result {
	e.t.Helper()
	return e.runWith(runOpts{}, args...)
}

// must runs a command that has to succeed.
func (e *invEnv) must(args ...string) result {
	e.t.Helper()
	r := e.run(args...)
	if r.code != 0 {
		e.t.Fatalf("inv %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// stock returns a product's stock as `inv stock get` shows it in a pipe.
func (e *invEnv) stock(ref string) string {
	e.t.Helper()
	r := e.must("stock", "get", ref, "--no-headers")
	cells := strings.Split(strings.TrimSuffix(r.out, "\n"), "\t")
	if len(cells) < 3 {
		e.t.Fatalf("inv stock get %s: unexpected output %q", ref, r.out)
	}
	return cells[2]
}

func (e *invEnv) sneakers() {
	e.t.Helper()
	e.must("product", "create", "--title", "Limited Edition Sneakers", "--sku", "SNK-LE-001", "--price", "199.99",
		"--stock", "50", "--track-stock", "--low-stock-threshold", "10")
}

func wantMatch(t *testing.T, what, got, pattern string) {
	t.Helper()
	if !regexp.MustCompile(pattern).MatchString(got) {
		t.Errorf("%s does not match %q:\n%s", what, pattern, got)
	}
}

func wantNoMatch(t *testing.T, what, got, pattern string) {
	t.Helper()
	if regexp.MustCompile(pattern).MatchString(got) {
		t.Errorf("%s matches %q but should not:\n%s", what, pattern, got)
	}
}

// TestOutputModes: the same list as a person on a terminal, a pipe, jq and a
// spreadsheet see it.
func TestOutputModes(t *testing.T) {
	e := newInvEnv(t)
	e.sneakers()

	t.Run("terminal: a box table, headers as typed, no tabs", func(t *testing.T) {
		r := e.runWith(runOpts{stdoutTTY: true}, "product", "list")
		if r.code != 0 {
			t.Fatal(r)
		}
		wantMatch(t, "stdout", r.out, `(?m)^\W*sku\W+title\W+stock\W+available\W+threshold\W+state\W+status\W+price\W+id\W*$`)
		wantMatch(t, "stdout", r.out, `(?m)^\W*SNK-LE-001\W+Limited Edition Sneakers\W+50\W+50\W+10\W+ok\W+draft\W+199\.99\W+prod_\w+\W*$`)
		wantMatch(t, "stdout", r.out, `[│|─+-]{3}`) // borders
		wantNoMatch(t, "stdout", r.out, "\t")
	})

	t.Run("pipe: tab-separated with one header line", func(t *testing.T) {
		r := e.run("product", "list")
		if r.code != 0 {
			t.Fatal(r)
		}
		lines := strings.Split(strings.TrimSuffix(r.out, "\n"), "\n")
		if len(lines) != 2 {
			t.Fatalf("want a header and one row, got %d lines:\n%s", len(lines), r.out)
		}
		if want := "sku\ttitle\tstock\tavailable\tthreshold\tstate\tstatus\tprice\tid"; lines[0] != want {
			t.Errorf("header = %q, want %q", lines[0], want)
		}
		wantMatch(t, "row", lines[1], `^SNK-LE-001\tLimited Edition Sneakers\t50\t50\t10\tok\tdraft\t199\.99\tprod_\w+$`)
		if r.errOut != "" {
			t.Errorf("a list prints nothing on stderr, got %q", r.errOut)
		}
	})

	t.Run("pipe with --no-headers", func(t *testing.T) {
		r := e.run("product", "list", "--no-headers")
		wantMatch(t, "stdout", r.out, `\ASNK-LE-001\tLimited Edition Sneakers\t50\t[^\n]*\n\z`)
	})

	t.Run("terminal with --no-headers has no header row", func(t *testing.T) {
		r := e.runWith(runOpts{stdoutTTY: true}, "product", "list", "--no-headers")
		wantMatch(t, "stdout", r.out, `SNK-LE-001`)
		wantNoMatch(t, "stdout", r.out, `\bthreshold\b`)
	})

	t.Run("json is the same on a terminal and in a pipe", func(t *testing.T) {
		tty := e.runWith(runOpts{stdoutTTY: true}, "product", "list", "-o", "json")
		pipe := e.run("product", "list", "-o", "json")
		if tty.out != pipe.out {
			t.Errorf("json differs between terminal and pipe:\n%s\nvs\n%s", tty.out, pipe.out)
		}
		wantMatch(t, "stdout", pipe.out, `\A\[\n  \{\n`)
		wantMatch(t, "stdout", pipe.out, `"trackStock": true,`)
		wantMatch(t, "stdout", pipe.out, `\n\]\n\z`)
	})

	t.Run("json: one object for one item", func(t *testing.T) {
		r := e.runWith(runOpts{stdoutTTY: true}, "product", "get", "snk-le-001", "-o", "json")
		wantMatch(t, "stdout", r.out, `\A\{\n  "id": "prod_\w+",\n`)
		wantMatch(t, "stdout", r.out, `"lowStockThreshold": 10,`)
	})

	t.Run("json: [] for an empty list", func(t *testing.T) {
		r := e.run("stock", "low", "-o", "json")
		if r.code != 0 || r.out != "[]\n" {
			t.Errorf("want [] for no low stock, got %s", r)
		}
	})

	t.Run("csv is the same on a terminal and in a pipe", func(t *testing.T) {
		tty := e.runWith(runOpts{stdoutTTY: true}, "stock", "history", "SNK-LE-001", "-o", "csv")
		pipe := e.run("stock", "history", "SNK-LE-001", "-o", "csv")
		if tty.out != pipe.out {
			t.Errorf("csv differs between terminal and pipe:\n%s\nvs\n%s", tty.out, pipe.out)
		}
		wantMatch(t, "stdout", pipe.out, `\Atime,delta,stock,reason,source,actor,ref\n[0-9TZ:.-]+,\+50,50,created,cli,tester,\n\z`)
	})

	t.Run("a title with a newline, a tab and an escape sequence is refused", func(t *testing.T) {
		// Control characters would break TSV rows and could drive a terminal;
		// they are refused at the door (the printers also neutralise them:
		// see internal/output's tests).
		e := newInvEnv(t)
		r := e.run("product", "create", "--title", "Two\nLines\tTabbed \x1b[31mred", "--sku", "CTRL-1")
		if r.code != 2 || !strings.Contains(r.errOut, "control character") {
			t.Fatalf("want exit 2 naming the control character, got %s", r)
		}
		if l := e.run("product", "list", "--no-headers"); l.out != "" {
			t.Errorf("a refused product was created: %q", l.out)
		}
	})

	t.Run("a stock change: the table on stdout, the message on stderr", func(t *testing.T) {
		r := e.run("stock", "adjust", "SNK-LE-001", "+1")
		if r.code != 0 {
			t.Fatal(r)
		}
		if want := "sku\tbefore\tdelta\tafter\nSNK-LE-001\t50\t+1\t51\n"; r.out != want {
			t.Errorf("stdout = %q, want %q", r.out, want)
		}
		if want := "SNK-LE-001: 50 → 51\n"; r.errOut != want {
			t.Errorf("stderr = %q, want %q", r.errOut, want)
		}
		q := e.run("-q", "stock", "adjust", "SNK-LE-001", "-1")
		if q.code != 0 || q.errOut != "" {
			t.Errorf("-q: want nothing on stderr, got %s", q)
		}
	})
}

// TestExitCodes: every kind of failure ends in its documented exit code, with
// its message on stderr and nothing on stdout.
func TestExitCodes(t *testing.T) {
	e := newInvEnv(t)
	e.sneakers()
	e.must("product", "create", "--title", "Mug", "--sku", "MUG-1", "--stock", "3", "--track-stock")
	e.must("stock", "adjust", "MUG-1", "+1", "--idempotency-key", "k-1")

	cases := []struct {
		name   string
		stdin  string
		args   []string
		code   int
		stderr string // regexp
	}{
		{"ok", "", []string{"stock", "get", "SNK-LE-001"}, cmd.ExitOK, `\A\z`},
		{"unknown command", "", []string{"stok", "get", "SNK-LE-001"}, cmd.ExitUsage, `(?m)^inv: unknown command "stok" for "inv"\n(?s:.*)Did you mean this\?\n\tstock\n(?s:.*)^Run 'inv --help' for usage\.$`},
		{"unknown flag", "", []string{"stock", "get", "SNK-LE-001", "--bogus"}, cmd.ExitUsage, `(?m)^inv: unknown flag: --bogus\nRun 'inv stock get --help' for usage\.$`},
		{"unknown flag on a negative-args command", "", []string{"stock", "adjust", "SNK-LE-001", "-5", "--bogus"}, cmd.ExitUsage, `(?m)^inv: unknown flag: --bogus\nRun 'inv stock adjust --help' for usage\.$`},
		{"missing argument", "", []string{"stock", "set", "SNK-LE-001"}, cmd.ExitUsage, `needs a product SKU or id and a stock level \(got 1 argument\(s\)\)`},
		{"bad delta", "", []string{"stock", "adjust", "SNK-LE-001", "1,5"}, cmd.ExitUsage, `^inv: delta: `},
		{"bad quantity flag", "", []string{"product", "create", "--title", "X", "--stock", "7.5"}, cmd.ExitUsage, `--stock`},
		{"bad output format", "", []string{"product", "list", "-o", "xml"}, cmd.ExitUsage, `valid values are table, json, csv`},
		{"bad file", "", []string{"bulk", "import", "-"}, cmd.ExitUsage, `the file is empty`},
		{"not found", "", []string{"stock", "adjust", "NOPE", "+1"}, cmd.ExitNotFound, `^inv: no product with SKU or id "NOPE" in store "default"\n\z`},
		{"compare-and-set mismatch", "", []string{"stock", "set", "SNK-LE-001", "75", "--expect", "60"}, cmd.ExitConflict, `stock is 50, not 60 as --expect said`},
		{"duplicate SKU", "", []string{"product", "create", "--title", "Again", "--sku", " snk-le-001 "}, cmd.ExitConflict, `already used`},
		{"idempotency key reused", "", []string{"stock", "adjust", "MUG-1", "+2", "--idempotency-key", "k-1"}, cmd.ExitConflict, `idempotency key "k-1" was already used for a different change`},
		{"insufficient stock", "", []string{"stock", "adjust", "SNK-LE-001", "-51"}, cmd.ExitInsufficient, `cannot take 51 from stock of 50 \(it would be -1\)`},
		{"import partly applied", "sku,qty\nSNK-LE-001,50\nNOPE,1\n", []string{"bulk", "import", "-", "--partial"}, cmd.ExitPartial, `(?m)^inv: row 3, column "sku", value "NOPE": .*\n(?s:.*)^inv: stdin: 1 row\(s\) rejected, 0 change\(s\) applied$`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.runWith(runOpts{stdin: c.stdin}, c.args...)
			if r.code != c.code {
				t.Fatalf("inv %s: exit %d, want %d\n%s", strings.Join(c.args, " "), r.code, c.code, r)
			}
			wantMatch(t, "stderr", r.errOut, c.stderr)
			if c.code != 0 && c.code != cmd.ExitPartial && r.out != "" {
				t.Errorf("a failed command prints nothing on stdout, got %q", r.out)
			}
		})
	}
	if got := e.stock("SNK-LE-001"); got != "50" {
		t.Errorf("the refused commands changed stock: %s, want 50", got)
	}
	if got := e.stock("MUG-1"); got != "4" {
		t.Errorf("the refused commands changed stock: %s, want 4", got)
	}
}

// TestExitCodeBackendFailures: a backend that cannot be reached exits 7; one
// that fails in an unexpected way exits 1; Ctrl-C exits 130.
func TestExitCodeBackendFailures(t *testing.T) {
	t.Run("unavailable", func(t *testing.T) {
		e := newInvEnv(t)
		e.open = func(ctx context.Context, o backend.Options) (backend.Backend, error) {
			return nil, inventory.Unavailablef("database %s is locked (waited 30s)", o.DB)
		}
		r := e.run("stock", "get", "SNK-LE-001")
		if r.code != cmd.ExitUnavailable {
			t.Fatalf("exit %d, want %d\n%s", r.code, cmd.ExitUnavailable, r)
		}
		wantMatch(t, "stderr", r.errOut, `^inv: database .*inv\.db is locked \(waited 30s\)\n\z`)
	})
	t.Run("unexpected", func(t *testing.T) {
		e := newInvEnv(t)
		e.open = func(ctx context.Context, o backend.Options) (backend.Backend, error) {
			return nil, errors.New("disk I/O error")
		}
		r := e.run("product", "list")
		if r.code != cmd.ExitFailure {
			t.Fatalf("exit %d, want %d\n%s", r.code, cmd.ExitFailure, r)
		}
		wantMatch(t, "stderr", r.errOut, `^inv: disk I/O error\n\z`)
	})
	t.Run("the backend gets the configured database, store and actor", func(t *testing.T) {
		e := newInvEnv(t)
		var got backend.Options
		e.open = func(ctx context.Context, o backend.Options) (backend.Backend, error) {
			got = o
			return nil, inventory.Unavailablef("stop here")
		}
		e.env["INV_STORE"] = "shop-2"
		e.run("--db", "/elsewhere/inv.db", "product", "list")
		if got.DB != "/elsewhere/inv.db" || got.Store != "shop-2" || got.Actor != "tester" {
			t.Errorf("backend options = %+v; want DB from the flag, store from the env, actor from USER", got)
		}
	})
	t.Run("interrupted", func(t *testing.T) {
		e := newInvEnv(t)
		e.sneakers()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		r := e.runWith(runOpts{ctx: ctx}, "stock", "adjust", "SNK-LE-001", "-5")
		if r.code != cmd.ExitInterrupted {
			t.Fatalf("exit %d, want %d\n%s", r.code, cmd.ExitInterrupted, r)
		}
		if want := "inv: interrupted; nothing half-done was kept\n"; r.errOut != want {
			t.Errorf("stderr = %q, want %q", r.errOut, want)
		}
		if got := e.stock("SNK-LE-001"); got != "50" {
			t.Errorf("an interrupted adjust changed stock to %s", got)
		}
	})
}

// TestExitCodeMapping: the one place errors become exit codes sees through
// wrapping.
func TestExitCodeMapping(t *testing.T) {
	cases := []struct {
		err  error
		code int
	}{
		{nil, 0},
		{errors.New("boom"), 1},
		{inventory.Invalidf("bad"), 2},
		{fmt.Errorf("reading x.csv: %w", inventory.ErrInvalid), 2},
		{fmt.Errorf("ctx: %w", inventory.NotFoundf("no product")), 3},
		{fmt.Errorf("ctx: %w", inventory.Conflictf("taken")), 4},
		{inventory.Insufficientf("short"), 5},
		{inventory.Partialf("some"), 6},
		{fmt.Errorf("ctx: %w", inventory.ErrUnavailable), 7},
		{fmt.Errorf("ctx: %w", context.Canceled), 130},
	}
	for _, c := range cases {
		if got := cmd.ExitCode(c.err); got != c.code {
			t.Errorf("ExitCode(%v) = %d, want %d", c.err, got, c.code)
		}
	}
}

// TestUnknownSubcommand: a typo under a command group is a usage error, like
// a typo at the top level, not a help page with exit 0: `inv stock ajdust
// SKU -5 && echo done` must not print "done".
func TestUnknownSubcommand(t *testing.T) {
	e := newInvEnv(t)
	for _, args := range [][]string{
		{"stock", "ajdust", "SNK-LE-001", "-5"},
		{"product", "lst"},
		{"completion", "tcsh"},
	} {
		r := e.run(args...)
		if r.code != cmd.ExitUsage {
			t.Errorf("inv %s: exit %d, want %d (usage)\n%s", strings.Join(args, " "), r.code, cmd.ExitUsage, r)
			continue
		}
		wantMatch(t, "stderr", r.errOut, `unknown command "`+args[1]+`"`)
		if r.out != "" {
			t.Errorf("inv %s: want nothing on stdout, got %d bytes", strings.Join(args, " "), len(r.out))
		}
	}
}

// TestHelpOnNegativeArgsCommands: stock set/adjust parse their own flags (so
// that -5 is a number); --help and -h must still show help, wherever they
// are, and change nothing.
func TestHelpOnNegativeArgsCommands(t *testing.T) {
	e := newInvEnv(t)
	e.sneakers()
	for _, args := range [][]string{
		{"stock", "adjust", "--help"},
		{"stock", "adjust", "-h"},
		{"stock", "adjust", "SNK-LE-001", "-5", "--help"},
		{"stock", "adjust", "-h", "SNK-LE-001", "-5"},
		{"help", "stock", "adjust"},
		{"stock", "set", "--help"},
		{"stock", "set", "SNK-LE-001", "-3", "-h"},
	} {
		r := e.run(args...)
		name := strings.Join(args, " ")
		if r.code != 0 {
			t.Errorf("inv %s: exit %d\n%s", name, r.code, r)
			continue
		}
		verb := "adjust"
		if slices.Contains(args, "set") {
			verb = "set"
		}
		wantMatch(t, "inv "+name, r.out, `(?m)^Usage:\n  inv stock `+verb+` REF (DELTA|N) \[flags\]$`)
		wantMatch(t, "inv "+name, r.out, `(?m)^\s+--reason string`)
		wantMatch(t, "inv "+name, r.out, `(?m)^Global Flags:$`)
		if r.errOut != "" {
			t.Errorf("inv %s: help prints nothing on stderr, got %q", name, r.errOut)
		}
	}
	if got := e.stock("SNK-LE-001"); got != "50" {
		t.Errorf("asking for help changed stock to %s", got)
	}
}

// TestNegativeArgs: the ways a person types a negative delta all work, and
// flag values that look like numbers stay flag values.
func TestNegativeArgs(t *testing.T) {
	e := newInvEnv(t)
	e.sneakers()
	steps := []struct {
		args  []string
		after string
	}{
		{[]string{"stock", "adjust", "SNK-LE-001", "-5", "--reason", "damaged"}, "45"},
		{[]string{"stock", "adjust", "--reason", "damaged", "SNK-LE-001", "-5"}, "40"},
		{[]string{"stock", "adjust", "SNK-LE-001", "--", "-5"}, "35"},
		{[]string{"stock", "adjust", "-o", "json", "SNK-LE-001", "-5"}, "30"},
		{[]string{"--idempotency-key", "n-1", "stock", "adjust", "SNK-LE-001", "-5"}, "25"},
		{[]string{"stock", "set", "SNK-LE-001", "20", "--expect", "25"}, "20"},
		{[]string{"stock", "adjust", "SNK-LE-001", "-100", "--clamp"}, "0"},
	}
	for _, s := range steps {
		r := e.run(s.args...)
		if r.code != 0 {
			t.Fatalf("inv %s: %s", strings.Join(s.args, " "), r)
		}
		if got := e.stock("SNK-LE-001"); got != s.after {
			t.Fatalf("after inv %s: stock %s, want %s", strings.Join(s.args, " "), got, s.after)
		}
	}
	r := e.must("stock", "history", "SNK-LE-001", "--limit", "2", "--no-headers")
	wantMatch(t, "history", r.out, `\t-5\t20\tset\tcli\ttester\t\n.*\t-20\t0\tadjust\tcli\ttester\t\n\z`)
	// An --expect of -1 is a value, not a flag: a conflict, not a usage error.
	if r := e.run("stock", "set", "SNK-LE-001", "5", "--expect", "-1"); r.code != cmd.ExitConflict {
		t.Errorf("--expect -1: exit %d, want %d\n%s", r.code, cmd.ExitConflict, r)
	}
}

// TestNoProgressInPipesOrQuiet: a cron job's log gets the summary lines, never
// a progress bar's carriage returns; -q silences even the summary.
func TestNoProgressInPipesOrQuiet(t *testing.T) {
	e := newInvEnv(t)
	e.sneakers()
	var csv strings.Builder
	csv.WriteString("sku,qty\n")
	for i := 0; i < 2000; i++ {
		csv.WriteString("snk-le-001,60\n")
	}
	file := filepath.Join(t.TempDir(), "big.csv")
	if err := os.WriteFile(file, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	r := e.run("bulk", "import", file, "--on-duplicate", "last", "--dry-run")
	if r.code != 0 {
		t.Fatal(r)
	}
	if strings.ContainsAny(r.errOut, "\r\x1b") {
		t.Errorf("stderr is not a terminal, but got progress output: %q", r.errOut)
	}
	wantMatch(t, "stderr", r.errOut, `(?m)^big\.csv: 2000 row\(s\): would change 1, unchanged 0; dry run: nothing was changed$`)

	r = e.runWith(runOpts{stderrTTY: true}, "-q", "bulk", "import", file, "--on-duplicate", "last")
	if r.code != 0 {
		t.Fatal(r)
	}
	if r.errOut != "" {
		t.Errorf("-q on a terminal: want nothing on stderr, got %q", r.errOut)
	}
	wantMatch(t, "stdout", r.out, `(?m)^2001\tSNK-LE-001\tLimited Edition Sneakers\t50\t60\t\+10$`)
}

// completionFiles are the committed shell completions and the shell each is for.
var completionFiles = []struct{ shell, file string }{
	{"bash", "inv.bash"},
	{"zsh", "_inv"},
	{"fish", "inv.fish"},
	{"powershell", "inv.ps1"},
}

// TestCompletionsUpToDate: completions/ holds what `inv completion SHELL`
// prints now. After changing commands or flags, refresh them with
//
//	go test ./cmd/ -run TestCompletionsUpToDate -update
func TestCompletionsUpToDate(t *testing.T) {
	e := newInvEnv(t)
	for _, c := range completionFiles {
		t.Run(c.shell, func(t *testing.T) {
			r := e.run("completion", c.shell)
			if r.code != 0 || r.errOut != "" {
				t.Fatalf("inv completion %s: %s", c.shell, r)
			}
			if !strings.Contains(r.out, "inv") || len(r.out) < 1000 {
				t.Fatalf("inv completion %s printed %d bytes; that is not a completion script", c.shell, len(r.out))
			}
			path := filepath.Join("..", "completions", c.file)
			if *update {
				if err := os.WriteFile(path, []byte(r.out), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			committed, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v; create it with: go test ./cmd/ -run TestCompletionsUpToDate -update", err)
			}
			if string(committed) != r.out {
				t.Errorf("completions/%s is not what 'inv completion %s' prints now; refresh it with: go test ./cmd/ -run TestCompletionsUpToDate -update",
					c.file, c.shell)
			}
		})
	}
}
