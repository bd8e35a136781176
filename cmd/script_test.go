package cmd_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/inv-cli/inv/cmd"
)

// update rewrites golden files: the `cmp` targets inside the .txtar scripts
// and the committed shell completions (completions/).
//
//	go test ./cmd/ -update
var update = flag.Bool("update", false, "rewrite golden files (txtar cmp targets, completions/) with what inv prints now")

// samplesDir holds the real-world CSV layouts the import scripts read.
const samplesDir = "../testdata/samples"

// TestMain makes this test binary double as the inv binary: testscript
// installs it on $PATH as "inv", and a script's `inv …` (or `exec inv …`) runs
// cmd.Main in a child process, exactly like main.go does.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"inv": func() { os.Exit(cmd.Main(os.Args[1:])) },
	})
}

// TestScripts runs the end-to-end scripts in testdata/script: the real
// command line, real files, a real SQLite database in the script's $WORK.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "../testdata/script",
		Setup:               setupScript,
		Cmds:                map[string]func(ts *testscript.TestScript, neg bool, args []string){"inv-exit": cmdInvExit},
		UpdateScripts:       *update,
		RequireExplicitExec: false,
		RequireUniqueNames:  true,
	})
}

// setupScript gives every script a hermetic environment: its database,
// config and data directories, home and user all live in $WORK, so nothing
// of the machine running the tests (a real ~/.config/inv, INV_* variables)
// leaks in. The sample files are copied to $WORK/samples byte for byte (BOM,
// CRLF, ";"), so the scripts import the real layouts.
func setupScript(env *testscript.Env) error {
	work := env.WorkDir
	for _, dir := range []string{"config", "data", "home", "samples"} {
		if err := os.MkdirAll(filepath.Join(work, dir), 0o755); err != nil {
			return err
		}
	}
	env.Setenv("INV_DB", filepath.Join(work, "inv.db"))
	env.Setenv("XDG_CONFIG_HOME", filepath.Join(work, "config"))
	env.Setenv("XDG_DATA_HOME", filepath.Join(work, "data"))
	env.Setenv("HOME", filepath.Join(work, "home"))
	env.Setenv("USER", "tester")
	env.Setenv("LOGNAME", "tester")
	env.Setenv("NO_COLOR", "1")

	entries, err := os.ReadDir(samplesDir)
	if err != nil {
		return fmt.Errorf("reading the sample files: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() || filepath.Ext(e.Name()) != ".csv" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(samplesDir, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(work, "samples", e.Name()), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// cmdInvExit runs inv and asserts its exact exit code:
//
//	inv-exit 5 stock adjust SNK-LE-001 -100
//
// `! inv …` only says "not zero"; scripts and cron jobs branch on the exact
// code, so the scripts assert it. stdout and stderr are kept for the
// following `stdout`/`stderr` assertions, as after `inv`.
func cmdInvExit(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! inv-exit (give the exact exit code instead)")
	}
	if len(args) < 1 {
		ts.Fatalf("usage: inv-exit CODE [inv arguments...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("inv-exit: exit code %q is not a number", args[0])
	}
	got := 0
	if err := ts.Exec("inv", args[1:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("inv-exit: running inv: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("inv %v: exit code %d, want %d", args[1:], got, want)
	}
}

// TestSamplesKeepTheirQuirks guards what the import scripts rely on: if
// someone "cleans up" a sample (drops the BOM, normalises line endings),
// the scripts would still pass while no longer testing the layout.
func TestSamplesKeepTheirQuirks(t *testing.T) {
	read := func(name string) []byte {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(samplesDir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if b := read("warehouse-3pl.csv"); !bytes.HasPrefix(b, []byte("\xef\xbb\xbfItem Number;")) {
		t.Errorf("warehouse-3pl.csv should start with a UTF-8 BOM and a ';'-separated header; starts with %q", b[:min(len(b), 20)])
	}
	woo := read("woocommerce-products.csv")
	if i := bytes.IndexByte(woo, '\n'); i < 1 || woo[i-1] != '\r' {
		t.Errorf("woocommerce-products.csv: the header line should end in CRLF")
	}
	if bytes.Count(woo, []byte("\r\n")) != 1 {
		t.Errorf("woocommerce-products.csv: only the header line should end in CRLF, the rows in LF")
	}
	if b := read("magento-stock.csv"); !bytes.HasPrefix(b, []byte(`"sku","qty"`)) {
		t.Errorf("magento-stock.csv should have a quoted header")
	}
	if b := read("shopify-products.csv"); !bytes.Contains(b, []byte(",0012345678905,")) {
		t.Errorf("shopify-products.csv should carry the barcode 0012345678905 with its leading zeros")
	}
}
