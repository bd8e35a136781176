package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/inv-cli/inv/internal/inventory"
)

// newFlags defines the global flags as the cmd package does and parses args.
// The flag defaults deliberately differ from nothing: an unset flag must not
// override lower layers even when it has a default.
func newFlags(t *testing.T, args ...string) *pflag.FlagSet {
	t.Helper()
	fs := pflag.NewFlagSet("inv", pflag.ContinueOnError)
	fs.String("config", "", "config file")
	fs.String("backend", "local", "local|remote")
	fs.String("db", "", "database path")
	fs.String("store", "", "store ID")
	fs.String("api-url", "", "API URL")
	fs.StringP("output", "o", "table", "table|json|csv")
	fs.Bool("no-headers", false, "no header line")
	fs.BoolP("quiet", "q", false, "quiet")
	fs.Bool("debug", false, "debug")
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	return fs
}

// env returns a getenv over m, with HOME set to a temp dir unless m says
// otherwise (use "HOME": "" with unset to drop it).
func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// home returns an env map with HOME set to a fresh temp dir.
func home(t *testing.T) map[string]string {
	t.Helper()
	return map[string]string{"HOME": t.TempDir()}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// writeDefault writes the config file at the default location for e.
func writeDefault(t *testing.T, e map[string]string, content string) string {
	t.Helper()
	path := DefaultPath(env(e))
	if path == "" {
		t.Fatal("no default path")
	}
	writeFile(t, path, content)
	return path
}

func mustLoad(t *testing.T, flags *pflag.FlagSet, e map[string]string) (*Config, map[string]Setting) {
	t.Helper()
	cfg, settings, err := Load(flags, env(e))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return cfg, byKey(t, settings)
}

func byKey(t *testing.T, settings []Setting) map[string]Setting {
	t.Helper()
	var keys []string
	m := map[string]Setting{}
	for _, s := range settings {
		keys = append(keys, s.Key)
		m[s.Key] = s
	}
	if !reflect.DeepEqual(keys, Keys()) {
		t.Fatalf("settings keys = %v, want %v", keys, Keys())
	}
	return m
}

func wantInvalid(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want an error containing %q, got nil", parts)
	}
	if !errors.Is(err, inventory.ErrInvalid) {
		t.Errorf("error %q does not wrap inventory.ErrInvalid", err)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not contain %q", err, p)
		}
	}
}

func TestKeys(t *testing.T) {
	want := []string{"backend", "db", "store", "api_url", "api_key", "output", "no_headers", "quiet", "debug", "busy_timeout", "webhook.delivery_budget"}
	if got := Keys(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Keys() = %v, want %v", got, want)
	}
	Keys()[0] = "changed"
	if Keys()[0] != "backend" {
		t.Fatal("Keys() returns shared state")
	}
}

func TestDefaults(t *testing.T) {
	e := home(t)
	cfg, s := mustLoad(t, newFlags(t), e)
	want := &Config{
		Backend:        "local",
		DB:             filepath.Join(e["HOME"], ".local", "share", "inv", "inv.db"),
		Store:          "default",
		APIURL:         "https://api.barecommercecore.com",
		Output:         "table",
		BusyTimeout:    30 * time.Second,
		DeliveryBudget: 2 * time.Second,
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("got %+v\nwant %+v", cfg, want)
	}
	for _, k := range Keys() {
		if s[k].Source != SourceDefault {
			t.Errorf("%s source = %q, want default", k, s[k].Source)
		}
	}
	if s["busy_timeout"].Value != "30s" || s["webhook.delivery_budget"].Value != "2s" || s["quiet"].Value != "false" || s["api_key"].Value != "" {
		t.Errorf("default values shown: %+v", s)
	}
}

func TestNilFlagsAndEnv(t *testing.T) {
	_, _, err := Load(nil, nil)
	// no HOME, no XDG: there is no default database path, and that says so
	wantInvalid(t, err, "db", "HOME", "INV_DB")

	cfg, _, err := Load(nil, env(map[string]string{"INV_DB": "/x/inv.db"}))
	if err != nil || cfg.DB != "/x/inv.db" {
		t.Fatalf("Load(nil flags) = %+v, %v", cfg, err)
	}
}

// Each INV_* variable lands in the struct: the viper Unmarshal pitfall is
// that variables viper does not already know vanish silently.
func TestEveryEnvVarLandsInStruct(t *testing.T) {
	cases := []struct {
		env, val, key, shown string
		check                func(*Config) bool
	}{
		{"INV_BACKEND", "remote", "backend", "remote", func(c *Config) bool { return c.Backend == "remote" }},
		{"INV_DB", "/env/inv.db", "db", "/env/inv.db", func(c *Config) bool { return c.DB == "/env/inv.db" }},
		{"INV_STORE", "st_env", "store", "st_env", func(c *Config) bool { return c.Store == "st_env" }},
		{"INV_API_URL", "http://localhost:8080/", "api_url", "http://localhost:8080", func(c *Config) bool { return c.APIURL == "http://localhost:8080" }},
		{"INV_API_KEY", "sk_live_0123456789abcdefghijkl", "api_key", "sk_live_…", func(c *Config) bool { return c.APIKey == "sk_live_0123456789abcdefghijkl" }},
		{"INV_OUTPUT", "json", "output", "json", func(c *Config) bool { return c.Output == "json" }},
		{"INV_NO_HEADERS", "true", "no_headers", "true", func(c *Config) bool { return c.NoHeaders }},
		{"INV_QUIET", "1", "quiet", "true", func(c *Config) bool { return c.Quiet }},
		{"INV_DEBUG", "yes", "debug", "true", func(c *Config) bool { return c.Debug }},
		{"INV_BUSY_TIMEOUT", "1m30s", "busy_timeout", "1m30s", func(c *Config) bool { return c.BusyTimeout == 90*time.Second }},
		{"INV_WEBHOOK_DELIVERY_BUDGET", "750ms", "webhook.delivery_budget", "750ms", func(c *Config) bool { return c.DeliveryBudget == 750*time.Millisecond }},
	}
	if len(cases) != len(Keys()) {
		t.Fatalf("%d cases for %d keys", len(cases), len(Keys()))
	}
	all := home(t)
	for _, c := range cases {
		t.Run(c.env, func(t *testing.T) {
			e := home(t)
			e[c.env] = c.val
			all[c.env] = c.val
			cfg, s := mustLoad(t, newFlags(t), e)
			if !c.check(cfg) {
				t.Errorf("%s=%s not in struct: %+v", c.env, c.val, cfg)
			}
			if s[c.key].Source != SourceEnv || s[c.key].Value != c.shown {
				t.Errorf("setting %s = %+v, want value %q from env", c.key, s[c.key], c.shown)
			}
		})
	}
	t.Run("all at once", func(t *testing.T) {
		cfg, s := mustLoad(t, newFlags(t), all)
		for _, c := range cases {
			if !c.check(cfg) {
				t.Errorf("%s lost when all are set: %+v", c.env, cfg)
			}
			if s[c.key].Source != SourceEnv {
				t.Errorf("%s source = %q", c.key, s[c.key].Source)
			}
		}
	})
}

func TestEveryFileKeyLandsInStruct(t *testing.T) {
	e := home(t)
	writeDefault(t, e, `# inv config
Backend: remote          # keys ignore case, as viper reads them
db: /file/inv.db
store: "0042"
api_url: https://file.example.com
api_key: sk_test_abcdefghijklmnopqrstuvwxyz
output: csv
no_headers: true
quiet: yes
debug: "on"
busy_timeout: 45s
webhook:
  delivery_budget: 5s
`)
	cfg, s := mustLoad(t, newFlags(t), e)
	want := &Config{
		Backend: "remote", DB: "/file/inv.db", Store: "0042", APIURL: "https://file.example.com",
		APIKey: "sk_test_abcdefghijklmnopqrstuvwxyz", Output: "csv", NoHeaders: true, Quiet: true, Debug: true,
		BusyTimeout: 45 * time.Second, DeliveryBudget: 5 * time.Second,
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("got %+v\nwant %+v", cfg, want)
	}
	for _, k := range Keys() {
		if s[k].Source != SourceFile {
			t.Errorf("%s source = %q, want file", k, s[k].Source)
		}
	}
}

func TestEveryFlagLandsInStruct(t *testing.T) {
	e := home(t)
	cfg, s := mustLoad(t, newFlags(t, "--backend", "remote", "--db", "/flag/inv.db", "--store", "st_flag",
		"--api-url", "https://flag.example.com", "-o", "json", "--no-headers", "-q", "--debug"), e)
	want := &Config{
		Backend: "remote", DB: "/flag/inv.db", Store: "st_flag", APIURL: "https://flag.example.com",
		Output: "json", NoHeaders: true, Quiet: true, Debug: true,
		BusyTimeout: 30 * time.Second, DeliveryBudget: 2 * time.Second,
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("got %+v\nwant %+v", cfg, want)
	}
	for _, k := range []string{"backend", "db", "store", "api_url", "output", "no_headers", "quiet", "debug"} {
		if s[k].Source != SourceFlag {
			t.Errorf("%s source = %q, want flag", k, s[k].Source)
		}
	}
}

// TestPrecedence checks each pair of layers for each key that has them.
func TestPrecedence(t *testing.T) {
	cases := []struct {
		key, envVar, fileKey string
		flag                 func(v string) []string
		vals                 [3]string // flag, env, file values
		field                func(*Config) string
	}{
		{"backend", "INV_BACKEND", "backend", func(v string) []string { return []string{"--backend", v} }, [3]string{"remote", "local", "remote"}, func(c *Config) string { return c.Backend }},
		{"db", "INV_DB", "db", func(v string) []string { return []string{"--db", v} }, [3]string{"/f.db", "/e.db", "/c.db"}, func(c *Config) string { return c.DB }},
		{"store", "INV_STORE", "store", func(v string) []string { return []string{"--store", v} }, [3]string{"sf", "se", "sc"}, func(c *Config) string { return c.Store }},
		{"api_url", "INV_API_URL", "api_url", func(v string) []string { return []string{"--api-url", v} }, [3]string{"https://f.example", "https://e.example", "https://c.example"}, func(c *Config) string { return c.APIURL }},
		{"api_key", "INV_API_KEY", "api_key", nil, [3]string{"", "key_from_env", "key_from_file"}, func(c *Config) string { return c.APIKey }},
		{"output", "INV_OUTPUT", "output", func(v string) []string { return []string{"-o", v} }, [3]string{"csv", "json", "csv"}, func(c *Config) string { return c.Output }},
		{"no_headers", "INV_NO_HEADERS", "no_headers", func(v string) []string { return []string{"--no-headers=" + v} }, [3]string{"true", "false", "true"}, func(c *Config) string { return boolText(c.NoHeaders) }},
		{"quiet", "INV_QUIET", "quiet", func(v string) []string { return []string{"--quiet=" + v} }, [3]string{"false", "true", "false"}, func(c *Config) string { return boolText(c.Quiet) }},
		{"debug", "INV_DEBUG", "debug", func(v string) []string { return []string{"--debug=" + v} }, [3]string{"true", "false", "true"}, func(c *Config) string { return boolText(c.Debug) }},
		{"busy_timeout", "INV_BUSY_TIMEOUT", "busy_timeout", nil, [3]string{"", "5s", "7s"}, func(c *Config) string { return c.BusyTimeout.String() }},
		{"webhook.delivery_budget", "INV_WEBHOOK_DELIVERY_BUDGET", "webhook:\n  delivery_budget", nil, [3]string{"", "3s", "4s"}, func(c *Config) string { return c.DeliveryBudget.String() }},
	}
	for _, c := range cases {
		t.Run(c.key, func(t *testing.T) {
			run := func(useFlag, useEnv, useFile bool) (string, Setting) {
				t.Helper()
				e := home(t)
				var args []string
				if useFlag {
					args = c.flag(c.vals[0])
				}
				if useEnv {
					e[c.envVar] = c.vals[1]
				}
				if useFile {
					writeDefault(t, e, c.fileKey+": "+c.vals[2]+"\n")
				}
				cfg, s := mustLoad(t, newFlags(t, args...), e)
				return c.field(cfg), s[c.key]
			}
			check := func(name, got string, s Setting, want, source string) {
				t.Helper()
				if got != want || s.Source != source {
					t.Errorf("%s: got %q from %s, want %q from %s", name, got, s.Source, want, source)
				}
			}
			if c.flag != nil {
				got, s := run(true, true, true)
				check("flag beats env", got, s, c.vals[0], SourceFlag)
				got, s = run(true, false, true)
				check("flag beats file", got, s, c.vals[0], SourceFlag)
			}
			got, s := run(false, true, true)
			check("env beats file", got, s, c.vals[1], SourceEnv)
			got, s = run(false, false, true)
			check("file beats default", got, s, c.vals[2], SourceFile)
		})
	}
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// A flag the user did not set does not override anything, even when it
// has a default (here --output defaults to "table" and --backend to "local").
func TestUnchangedFlagDefaultsDoNotOverride(t *testing.T) {
	e := home(t)
	e["INV_OUTPUT"] = "json"
	writeDefault(t, e, "backend: remote\n")
	cfg, s := mustLoad(t, newFlags(t), e)
	if cfg.Output != "json" || s["output"].Source != SourceEnv {
		t.Errorf("output = %q from %s", cfg.Output, s["output"].Source)
	}
	if cfg.Backend != "remote" || s["backend"].Source != SourceFile {
		t.Errorf("backend = %q from %s", cfg.Backend, s["backend"].Source)
	}
}

// Flags the set does not define (a command without them) are simply absent;
// an --api-key flag, should one ever exist, is never read.
func TestUndefinedFlagsAndNoAPIKeyFlag(t *testing.T) {
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	fs.String("api-key", "", "must be ignored")
	fs.String("api_key", "", "must be ignored")
	if err := fs.Parse([]string{"--api-key", "sk_flag_secret", "--api_key", "sk_flag_secret"}); err != nil {
		t.Fatal(err)
	}
	cfg, s := mustLoad(t, fs, home(t))
	if cfg.APIKey != "" || s["api_key"].Source != SourceDefault {
		t.Fatalf("API key taken from a flag: %q (%s)", cfg.APIKey, s["api_key"].Source)
	}
}

func TestEmptyValues(t *testing.T) {
	e := home(t)
	e["INV_STORE"] = ""    // empty env var: not set
	e["INV_OUTPUT"] = "  " // blank: not set
	writeDefault(t, e, "store: s_file\napi_key: \"\"\noutput:\n")
	cfg, s := mustLoad(t, newFlags(t), e)
	if cfg.Store != "s_file" || s["store"].Source != SourceFile {
		t.Errorf("store = %q from %s", cfg.Store, s["store"].Source)
	}
	if cfg.APIKey != "" || s["api_key"].Source != SourceDefault {
		t.Errorf("api_key = %q from %s", cfg.APIKey, s["api_key"].Source)
	}
	if cfg.Output != "table" || s["output"].Source != SourceDefault {
		t.Errorf("output = %q from %s", cfg.Output, s["output"].Source)
	}

	// an explicit empty flag is refused rather than silently defaulted
	_, _, err := Load(newFlags(t, "--db", ""), env(e))
	wantInvalid(t, err, "--db", "empty")
	_, _, err = Load(newFlags(t, "--config="), env(e))
	wantInvalid(t, err, "--config", "empty")
}

func TestExplicitConfig(t *testing.T) {
	e := home(t)
	writeDefault(t, e, "store: from_default_file\n")
	path := filepath.Join(t.TempDir(), "custom.yml")
	writeFile(t, path, "store: from_explicit_file\n")
	cfg, s := mustLoad(t, newFlags(t, "--config", path), e)
	if cfg.Store != "from_explicit_file" || s["store"].Source != SourceFile {
		t.Fatalf("store = %q from %s", cfg.Store, s["store"].Source)
	}

	missing := filepath.Join(t.TempDir(), "nope", "config.yaml")
	_, _, err := Load(newFlags(t, "--config", missing), env(e))
	wantInvalid(t, err, missing, "does not exist")

	// ~ in --config is expanded with HOME (the shell does not expand --config=~/x)
	writeFile(t, filepath.Join(e["HOME"], "inv.yaml"), "store: tilde\n")
	cfg, _ = mustLoad(t, newFlags(t, "--config=~/inv.yaml"), e)
	if cfg.Store != "tilde" {
		t.Fatalf("store = %q", cfg.Store)
	}
}

func TestMissingDefaultFileIsFine(t *testing.T) {
	e := home(t)
	if _, err := os.Stat(DefaultPath(env(e))); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("default file unexpectedly exists: %v", err)
	}
	mustLoad(t, newFlags(t), e)
}

func TestMalformedFile(t *testing.T) {
	for name, content := range map[string]string{
		"syntax":     "backend: local\n  store: [unclosed\n",
		"tab indent": "webhook:\n\tdelivery_budget: 2s\n",
		"not a map":  "- a\n- b\n",
	} {
		t.Run(name, func(t *testing.T) {
			e := home(t)
			path := writeDefault(t, e, content)
			_, _, err := Load(newFlags(t), env(e))
			wantInvalid(t, err, path, "not valid YAML")

			explicit := filepath.Join(t.TempDir(), "c.yaml")
			writeFile(t, explicit, content)
			_, _, err = Load(newFlags(t, "--config", explicit), env(e))
			wantInvalid(t, err, explicit)
		})
	}
}

func TestFileValueNotAScalar(t *testing.T) {
	e := home(t)
	path := writeDefault(t, e, "store: [a, b]\n")
	_, _, err := Load(newFlags(t), env(e))
	wantInvalid(t, err, "store", path, "single value")
}

func TestInvalidValuesNameTheirSource(t *testing.T) {
	cases := []struct {
		name  string
		args  []string
		env   map[string]string
		file  string
		parts []string
	}{
		{"backend flag", []string{"--backend", "cloud"}, nil, "", []string{"backend", `"cloud"`, "flag --backend", "local, remote"}},
		{"backend env", nil, map[string]string{"INV_BACKEND": "cloud"}, "", []string{"backend", `"cloud"`, "env INV_BACKEND", "local, remote"}},
		{"backend file", nil, nil, "backend: cloud\n", []string{"backend", `"cloud"`, "config file", "local, remote"}},
		{"output flag", []string{"-o", "xml"}, nil, "", []string{"output", `"xml"`, "flag --output", "table, json, csv"}},
		{"output env", nil, map[string]string{"INV_OUTPUT": "xml"}, "", []string{"output", `"xml"`, "env INV_OUTPUT", "table, json, csv"}},
		{"output file", nil, nil, "output: xml\n", []string{"output", `"xml"`, "config file", "table, json, csv"}},
		{"bool env", nil, map[string]string{"INV_QUIET": "maybe"}, "", []string{"quiet", `"maybe"`, "env INV_QUIET", "true, false"}},
		{"bool file", nil, nil, "no_headers: sometimes\n", []string{"no_headers", `"sometimes"`, "config file", "true, false"}},
		{"duration env", nil, map[string]string{"INV_BUSY_TIMEOUT": "30"}, "", []string{"busy_timeout", `"30"`, "env INV_BUSY_TIMEOUT", "unit"}},
		{"duration file int", nil, nil, "busy_timeout: 30\n", []string{"busy_timeout", `"30"`, "config file", "unit"}},
		{"negative duration", nil, map[string]string{"INV_BUSY_TIMEOUT": "-1s"}, "", []string{"busy_timeout", "negative"}},
		{"negative budget", nil, nil, "webhook:\n  delivery_budget: -1s\n", []string{"webhook.delivery_budget", "config file", "negative"}},
		{"url flag", []string{"--api-url", "ftp://x"}, nil, "", []string{"api_url", `"ftp://x"`, "flag --api-url", "http"}},
		{"url env", nil, map[string]string{"INV_API_URL": "api.example.com"}, "", []string{"api_url", "env INV_API_URL", "http"}},
		{"db tilde no home", []string{"--db", "~/inv.db"}, map[string]string{"HOME": ""}, "", []string{"db", "~/inv.db", "flag --db", "HOME"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := home(t)
			for k, v := range c.env {
				e[k] = v
			}
			parts := c.parts
			if c.file != "" {
				path := writeDefault(t, e, c.file)
				parts = append(parts, path)
			}
			_, _, err := Load(newFlags(t, c.args...), env(e))
			wantInvalid(t, err, parts...)
		})
	}
}

func TestAllProblemsReportedAtOnce(t *testing.T) {
	e := home(t)
	e["INV_OUTPUT"] = "xml"
	_, _, err := Load(newFlags(t, "--backend", "cloud"), env(e))
	wantInvalid(t, err, "backend", "output")
}

func TestNormalisation(t *testing.T) {
	e := home(t)
	e["INV_OUTPUT"] = "JSON"
	e["INV_API_URL"] = "https://api.example.com/v1/"
	cfg, s := mustLoad(t, newFlags(t, "--backend", " Remote "), e)
	if cfg.Output != "json" || cfg.Backend != "remote" || cfg.APIURL != "https://api.example.com/v1" {
		t.Fatalf("not normalised: %+v", cfg)
	}
	if s["output"].Value != "json" {
		t.Errorf("setting shows %q", s["output"].Value)
	}
}

func TestAPIKeyRedacted(t *testing.T) {
	const key = "sk_live_51HxY2eZvKYlo2C0123456789abcdef"
	for name, setup := range map[string]func(e map[string]string){
		"env":  func(e map[string]string) { e["INV_API_KEY"] = key },
		"file": func(e map[string]string) { writeDefault(t, e, "api_key: "+key+"\n") },
	} {
		t.Run(name, func(t *testing.T) {
			e := home(t)
			setup(e)
			cfg, settings, err := Load(newFlags(t), env(e))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.APIKey != key {
				t.Fatalf("APIKey = %q", cfg.APIKey)
			}
			for _, s := range settings {
				if strings.Contains(s.Value, key) || strings.Contains(s.Value, key[8:16]) {
					t.Errorf("setting %s shows the key: %q", s.Key, s.Value)
				}
			}
			if got := byKey(t, settings)["api_key"]; got.Value != "sk_live_…" || got.Source != name {
				t.Errorf("api_key setting = %+v", got)
			}

			// an error elsewhere in the config does not leak it either
			e["INV_BACKEND"] = "cloud"
			_, _, err = Load(newFlags(t), env(e))
			wantInvalid(t, err, "backend")
			if strings.Contains(err.Error(), key[8:]) {
				t.Errorf("error leaks the key: %v", err)
			}
		})
	}

	// an invalid key is refused without being quoted
	e := home(t)
	bad := "sk_live_abc def_0123456789"
	e["INV_API_KEY"] = bad
	_, _, err := Load(newFlags(t), env(e))
	wantInvalid(t, err, "api_key", "env INV_API_KEY", "spaces")
	if strings.Contains(err.Error(), "abc def") {
		t.Errorf("error quotes the key: %v", err)
	}

	short := home(t)
	short["INV_API_KEY"] = "shortkey123"
	_, s := mustLoad(t, newFlags(t), short)
	if s["api_key"].Value != "(set)" {
		t.Errorf("short key shown as %q", s["api_key"].Value)
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"":                                 "",
		"abc":                              "(set)",
		"sk_live_0123456789abcdef":         "sk_live_…",
		"sk_live_0123456789abcdefghijklmn": "sk_live_…",
		"0123456789abcdefghijklm":          "(set)",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAPIURLPasswordRedactedInSettings(t *testing.T) {
	e := home(t)
	e["INV_API_URL"] = "https://user:hunter2@api.example.com"
	cfg, s := mustLoad(t, newFlags(t), e)
	if cfg.APIURL != "https://user:hunter2@api.example.com" {
		t.Fatalf("APIURL = %q", cfg.APIURL)
	}
	if strings.Contains(s["api_url"].Value, "hunter2") {
		t.Errorf("setting shows the password: %q", s["api_url"].Value)
	}
}

func TestDefaultPath(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"xdg", map[string]string{"XDG_CONFIG_HOME": "/xdg/cfg", "HOME": "/home/u"}, "/xdg/cfg/inv/config.yaml"},
		{"home", map[string]string{"HOME": "/home/u"}, "/home/u/.config/inv/config.yaml"},
		{"relative xdg ignored", map[string]string{"XDG_CONFIG_HOME": "rel/cfg", "HOME": "/home/u"}, "/home/u/.config/inv/config.yaml"},
		{"empty xdg ignored", map[string]string{"XDG_CONFIG_HOME": "", "HOME": "/home/u"}, "/home/u/.config/inv/config.yaml"},
		{"nothing", map[string]string{}, ""},
	}
	for _, c := range cases {
		if got := DefaultPath(env(c.env)); got != c.want {
			t.Errorf("%s: DefaultPath = %q, want %q", c.name, got, c.want)
		}
	}
	if got := DefaultPath(nil); got != "" {
		t.Errorf("DefaultPath(nil) = %q", got)
	}
}

func TestDefaultDBPath(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"xdg", map[string]string{"XDG_DATA_HOME": "/xdg/data", "HOME": "/home/u"}, "/xdg/data/inv/inv.db"},
		{"home", map[string]string{"HOME": "/home/u"}, "/home/u/.local/share/inv/inv.db"},
		{"relative xdg ignored", map[string]string{"XDG_DATA_HOME": "data", "HOME": "/home/u"}, "/home/u/.local/share/inv/inv.db"},
		{"xdg without home", map[string]string{"XDG_DATA_HOME": "/xdg/data"}, "/xdg/data/inv/inv.db"},
	}
	for _, c := range cases {
		cfg, s := mustLoad(t, newFlags(t), c.env)
		if cfg.DB != c.want || s["db"].Value != c.want || s["db"].Source != SourceDefault {
			t.Errorf("%s: DB = %q (%+v), want %q", c.name, cfg.DB, s["db"], c.want)
		}
	}
}

func TestXDGConfigHomeFileIsRead(t *testing.T) {
	e := home(t)
	e["XDG_CONFIG_HOME"] = t.TempDir()
	writeFile(t, filepath.Join(e["HOME"], ".config", "inv", "config.yaml"), "store: from_home\n")
	writeFile(t, filepath.Join(e["XDG_CONFIG_HOME"], "inv", "config.yaml"), "store: from_xdg\n")
	cfg, _ := mustLoad(t, newFlags(t), e)
	if cfg.Store != "from_xdg" {
		t.Fatalf("store = %q, want from_xdg", cfg.Store)
	}
}

func TestTildeExpansionInDB(t *testing.T) {
	e := home(t)
	want := filepath.Join(e["HOME"], "data", "inv.db")
	for name, load := range map[string]func() (*Config, map[string]Setting){
		"flag": func() (*Config, map[string]Setting) { return mustLoad(t, newFlags(t, "--db", "~/data/inv.db"), e) },
		"env": func() (*Config, map[string]Setting) {
			e2 := map[string]string{"HOME": e["HOME"], "INV_DB": "~/data/inv.db"}
			return mustLoad(t, newFlags(t), e2)
		},
		"file": func() (*Config, map[string]Setting) {
			e3 := home(t)
			e3["HOME"] = e["HOME"]
			cfgDir := t.TempDir()
			path := filepath.Join(cfgDir, "c.yaml")
			writeFile(t, path, "db: ~/data/inv.db\n")
			return mustLoad(t, newFlags(t, "--config", path), e3)
		},
	} {
		cfg, s := load()
		if cfg.DB != want || s["db"].Value != want {
			t.Errorf("%s: DB = %q, want %q", name, cfg.DB, want)
		}
	}
	// ~user is not ours to expand
	cfg, _ := mustLoad(t, newFlags(t, "--db", "~other/inv.db"), e)
	if cfg.DB != "~other/inv.db" {
		t.Errorf("DB = %q", cfg.DB)
	}
}

// Each Load owns its viper instance, so concurrent loads do not race
// (run with -race).
func TestConcurrentLoads(t *testing.T) {
	e := home(t)
	writeDefault(t, e, "store: s\nwebhook:\n  delivery_budget: 3s\n")
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
			cfg, _, err := Load(fs, env(e))
			if err != nil || cfg.Store != "s" || cfg.DeliveryBudget != 3*time.Second {
				t.Errorf("Load = %+v, %v", cfg, err)
			}
		}()
	}
	wg.Wait()
}

// File values are read as written: viper's own YAML decoder turned an
// unquoted `store: 0042` into 34 (octal) and `db: 1e3` into 1000.
func TestFileScalarsKeptAsWritten(t *testing.T) {
	e := home(t)
	writeDefault(t, e, "store: 0042\ndb: 1e3\nquiet: True\napi_key: 0x1F\n")
	cfg, _ := mustLoad(t, newFlags(t), e)
	if cfg.Store != "0042" || cfg.DB != "1e3" || !cfg.Quiet || cfg.APIKey != "0x1F" {
		t.Fatalf("got %+v", cfg)
	}
}

func TestFileAnchorsAndMerge(t *testing.T) {
	e := home(t)
	writeDefault(t, e, "base: &b\n  delivery_budget: 7s\nwebhook:\n  <<: *b\nstore: &s shop\nx: *s\n")
	cfg, _ := mustLoad(t, newFlags(t), e)
	if cfg.DeliveryBudget != 7*time.Second || cfg.Store != "shop" {
		t.Fatalf("got %+v", cfg)
	}
}

func TestFileKeysDifferingOnlyInCase(t *testing.T) {
	e := home(t)
	path := writeDefault(t, e, "store: a\nSTORE: b\n")
	_, _, err := Load(newFlags(t), env(e))
	wantInvalid(t, err, path, "STORE", "ignore case")

	path = writeDefault(t, e, "store: a\nstore: b\n")
	_, _, err = Load(newFlags(t), env(e))
	wantInvalid(t, err, path, "store")
}
