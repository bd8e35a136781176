package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func readText(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// loadFile loads the config with only the given file and a temp HOME.
func loadFile(t *testing.T, path string) (*Config, map[string]Setting) {
	t.Helper()
	return mustLoad(t, newFlags(t, "--config", path), home(t))
}

func TestSetValueRoundTripsEveryKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new", "dir", "config.yaml")
	values := map[string]string{
		"backend":                 "remote",
		"db":                      "/data/inv.db",
		"store":                   "0042", // must stay a string, leading zero and all
		"api_url":                 "https://api.example.com",
		"api_key":                 "sk_live_0123456789abcdefghijkl",
		"output":                  "csv",
		"no_headers":              "true",
		"quiet":                   "yes",
		"debug":                   "false",
		"busy_timeout":            "1m",
		"webhook.delivery_budget": "1500ms",
	}
	for _, k := range Keys() {
		if err := SetValue(path, k, values[k]); err != nil {
			t.Fatalf("SetValue(%s): %v", k, err)
		}
	}
	cfg, s := loadFile(t, path)
	want := Config{
		Backend: "remote", DB: "/data/inv.db", Store: "0042", APIURL: "https://api.example.com",
		APIKey: "sk_live_0123456789abcdefghijkl", Output: "csv", NoHeaders: true, Quiet: true, Debug: false,
		BusyTimeout: time.Minute, DeliveryBudget: 1500 * time.Millisecond,
	}
	if *cfg != want {
		t.Fatalf("got %+v\nwant %+v", *cfg, want)
	}
	for _, k := range Keys() {
		if s[k].Source != SourceFile {
			t.Errorf("%s source = %q", k, s[k].Source)
		}
	}

	// permissions: dirs 0700, file 0600
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, want 0600", info.Mode().Perm())
	}
	for _, d := range []string{filepath.Dir(path), filepath.Dir(filepath.Dir(path))} {
		di, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if di.Mode().Perm() != 0o700 {
			t.Errorf("dir %s mode %v, want 0700", d, di.Mode().Perm())
		}
	}
	// no temp files left behind
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("dir holds %d entries, want only config.yaml", len(entries))
	}
}

func TestSetValuePreservesOtherKeysAndComments(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	writeFile(t, path, `# my inv settings
store: shop_1 # the main shop
Backend: local
custom_thing: keep me   # not an inv key, but the user's
webhook:
  delivery_budget: 3s
  other: 1
`)
	if err := SetValue(path, "backend", "remote"); err != nil {
		t.Fatal(err)
	}
	if err := SetValue(path, "output", "json"); err != nil {
		t.Fatal(err)
	}
	if err := SetValue(path, "webhook.delivery_budget", "4s"); err != nil {
		t.Fatal(err)
	}
	text := readText(t, path)
	for _, want := range []string{"# my inv settings", "store: shop_1 # the main shop", "custom_thing: keep me", "other: 1", "delivery_budget: 4s", "output: json"} {
		if !strings.Contains(text, want) {
			t.Errorf("file lost %q:\n%s", want, text)
		}
	}
	if strings.Count(strings.ToLower(text), "backend:") != 1 {
		t.Errorf("backend duplicated instead of replaced:\n%s", text)
	}
	if strings.Index(text, "store:") > strings.Index(text, "ackend:") {
		t.Errorf("key order changed:\n%s", text)
	}
	cfg, _ := loadFile(t, path)
	if cfg.Store != "shop_1" || cfg.Backend != "remote" || cfg.Output != "json" || cfg.DeliveryBudget != 4*time.Second {
		t.Fatalf("got %+v", cfg)
	}
}

func TestSetValueQuotesStringsThatLookLikeOtherTypes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	for _, v := range []string{"true", "0042", "1e3", "null", "~"} {
		if err := SetValue(path, "store", v); err != nil {
			t.Fatal(err)
		}
		cfg, _ := loadFile(t, path)
		if cfg.Store != v {
			t.Errorf("store %q read back as %q; file:\n%s", v, cfg.Store, readText(t, path))
		}
	}
}

func TestSetValueUnknownKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	err := SetValue(path, "colour", "red")
	wantInvalid(t, err, `"colour"`, strings.Join(Keys(), ", "))
	if _, statErr := os.Stat(path); !os.IsNotExist(statErr) {
		t.Error("file created for an unknown key")
	}

	// a key that looks like it holds a secret is not echoed
	err = SetValue(path, "api_key=sk_live_0123456789abcdefghijkl", "x")
	wantInvalid(t, err, "unknown config key")
	if strings.Contains(err.Error(), "0123456789") {
		t.Errorf("error echoes a secret-looking key: %v", err)
	}
}

// Keys are taken exactly as Keys() spells them: callers decide whether to
// echo a value by comparing the key with "api_key", so "API-KEY" must not
// slip through as the API key.
func TestSetValueKeySpelling(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	for _, k := range []string{"API_KEY", "api-key", "Output", "webhook.delivery-budget", " store"} {
		wantInvalid(t, SetValue(path, k, "x"), "unknown config key")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Error("file written for a misspelt key")
	}
}

func TestSetValueValidates(t *testing.T) {
	cases := []struct {
		key, value string
		parts      []string
	}{
		{"backend", "cloud", []string{"backend", `"cloud"`, "local, remote"}},
		{"output", "xml", []string{"output", `"xml"`, "table, json, csv"}},
		{"quiet", "maybe", []string{"quiet", `"maybe"`, "true, false"}},
		{"busy_timeout", "30", []string{"busy_timeout", "unit"}},
		{"busy_timeout", "-2s", []string{"busy_timeout", "negative"}},
		{"webhook.delivery_budget", "0s", []string{"delivery_budget", "more than zero"}},
		{"api_url", "example.com", []string{"api_url", "http"}},
		{"store", "  ", []string{"store", "empty"}},
	}
	for _, c := range cases {
		path := filepath.Join(t.TempDir(), "config.yaml")
		writeFile(t, path, "store: keep\n")
		err := SetValue(path, c.key, c.value)
		wantInvalid(t, err, c.parts...)
		if got := readText(t, path); got != "store: keep\n" {
			t.Errorf("%s=%s: file changed on error:\n%s", c.key, c.value, got)
		}
	}
}

func TestSetValueAPIKeyNotInErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	err := SetValue(path, "api_key", "sk_live_abc def0123456789")
	wantInvalid(t, err, "api_key", "spaces")
	if strings.Contains(err.Error(), "abc def") || strings.Contains(err.Error(), "0123456789") {
		t.Errorf("error quotes the key: %v", err)
	}
}

func TestSetValueAPIKeyTightensMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	writeFile(t, path, "store: s\n")
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := SetValue(path, "store", "t"); err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o644 {
		t.Errorf("mode changed to %v by a non-secret key", info.Mode().Perm())
	}
	if err := SetValue(path, "api_key", "sk_live_0123456789abcdefghijkl"); err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
		t.Errorf("mode %v after writing api_key, want 0600", info.Mode().Perm())
	}
}

func TestSetValueMalformedFileLeftAlone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	const bad = "store: [unclosed\n"
	writeFile(t, path, bad)
	err := SetValue(path, "backend", "remote")
	wantInvalid(t, err, path, "not valid YAML")
	if readText(t, path) != bad {
		t.Error("malformed file rewritten")
	}

	writeFile(t, path, "- a\n")
	wantInvalid(t, SetValue(path, "backend", "remote"), path, "mapping")

	writeFile(t, path, "store: a\n---\nstore: b\n")
	wantInvalid(t, SetValue(path, "backend", "remote"), path, "more than one")

	writeFile(t, path, "webhook: 5s\n")
	wantInvalid(t, SetValue(path, "webhook.delivery_budget", "1s"), path, "webhook")
}

func TestSetValueEmptyAndCommentOnlyFiles(t *testing.T) {
	for name, content := range map[string]string{
		"empty":        "",
		"comment only": "# nothing yet\n",
		"null":         "~\n",
		"null webhook": "webhook:\n",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.yaml")
			writeFile(t, path, content)
			if err := SetValue(path, "webhook.delivery_budget", "6s"); err != nil {
				t.Fatal(err)
			}
			cfg, _ := loadFile(t, path)
			if cfg.DeliveryBudget != 6*time.Second {
				t.Fatalf("budget = %v; file:\n%s", cfg.DeliveryBudget, readText(t, path))
			}
			if strings.HasPrefix(content, "#") && !strings.Contains(readText(t, path), "# nothing yet") {
				t.Errorf("comment lost:\n%s", readText(t, path))
			}
		})
	}
}

func TestSetValueDottedLiteralKeyUpdatedInPlace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	writeFile(t, path, "webhook.delivery_budget: 3s\n")
	if err := SetValue(path, "webhook.delivery_budget", "8s"); err != nil {
		t.Fatal(err)
	}
	cfg, _ := loadFile(t, path)
	if cfg.DeliveryBudget != 8*time.Second {
		t.Fatalf("budget = %v; file:\n%s", cfg.DeliveryBudget, readText(t, path))
	}
}

func TestSetValueCaseDuplicatesCollapsed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	writeFile(t, path, "store: a\nSTORE: b\n")
	if err := SetValue(path, "store", "c"); err != nil {
		t.Fatal(err)
	}
	text := readText(t, path)
	if strings.Count(strings.ToLower(text), "store:") != 1 {
		t.Fatalf("duplicates left:\n%s", text)
	}
	cfg, _ := loadFile(t, path)
	if cfg.Store != "c" {
		t.Fatalf("store = %q", cfg.Store)
	}
}

func TestSetValueThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "dotfiles", "inv.yaml")
	writeFile(t, real, "store: s\n")
	link := filepath.Join(dir, "config.yaml")
	if err := os.Symlink(real, link); err != nil {
		t.Skip("symlinks unavailable:", err)
	}
	if err := SetValue(link, "output", "json"); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Lstat(link); err != nil || info.Mode()&os.ModeSymlink == 0 {
		t.Fatal("symlink replaced by a file")
	}
	if !strings.Contains(readText(t, real), "output: json") {
		t.Fatalf("target not updated:\n%s", readText(t, real))
	}
}
