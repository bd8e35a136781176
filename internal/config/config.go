// Package config builds inv's configuration from four layers, highest first:
// command-line flags the user set, INV_* environment variables, the YAML
// config file, and built-in defaults. It is read once per command into a
// plain Config that the rest of the program passes around; nothing else in
// inv talks to viper.
//
// Viper is used for what it is good at here: reading the config file
// (nested keys, case-insensitive lookup), with its YAML decoder replaced by
// one that keeps scalars as written (file.go). Flags, environment and
// defaults are layered around it by this package, not by viper, because
// inv must say where every value came from (`inv config list`) and because
// the environment is injected (viper only ever reads os.LookupEnv), which
// keeps tests hermetic. That also sidesteps viper's Unmarshal/env pitfall:
// nothing here relies on Unmarshal discovering environment keys.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/inv-cli/inv/internal/inventory"
)

// Config is the effective configuration of one inv invocation.
type Config struct {
	Backend        string        // "local" (default) | "remote"
	DB             string        // path of the SQLite file, "~" already expanded
	Store          string        // store ID, default "default"
	APIURL         string        // base URL of the store API, no trailing slash
	APIKey         string        // only from INV_API_KEY or the config file, never a flag; never print it
	Output         string        // "table" (default) | "json" | "csv"
	NoHeaders      bool          // drop the header line of table/csv output
	Quiet          bool          // no messages or progress on stderr
	Debug          bool          // diagnostic output on stderr (redact the API key)
	BusyTimeout    time.Duration // how long a write waits for another process's lock; default 30s
	DeliveryBudget time.Duration // total time budget of one webhook delivery; default 2s
}

// Setting is one key of the effective configuration, for `inv config list`.
// Value is the effective value as text (the API key redacted); Source is
// "flag", "env", "file" or "default".
type Setting struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Source string `json:"source"` // flag, env, file or default
}

// The sources a Setting can name.
const (
	SourceFlag    = "flag"
	SourceEnv     = "env"
	SourceFile    = "file"
	SourceDefault = "default"
)

// Built-in defaults (the database path is computed from XDG_DATA_HOME/HOME).
const (
	defaultBackend        = "local"
	defaultStore          = "default"
	defaultAPIURL         = "https://api.barecommercecore.com"
	defaultOutput         = "table"
	defaultBusyTimeout    = 30 * time.Second
	defaultDeliveryBudget = 2 * time.Second
)

// envPrefix prefixes every environment variable inv reads for its settings.
const envPrefix = "INV_"

const configFlag = "config"

type kind int

const (
	kindString kind = iota
	kindEnum
	kindPath
	kindURL
	kindSecret
	kindBool
	kindDuration
)

// spec describes one settable key.
type spec struct {
	key     string   // as in the config file and in Keys()
	flag    string   // long flag name, "" when the key has no flag
	kind    kind     // how the raw text is parsed and validated
	allowed []string // kindEnum: the valid values
	def     string   // default as text ("" for db: computed, and for api_key: unset)
}

// specs lists the keys in display order.
var specs = []spec{
	{key: "backend", flag: "backend", kind: kindEnum, allowed: []string{"local", "remote"}, def: defaultBackend},
	{key: "db", flag: "db", kind: kindPath},
	{key: "store", flag: "store", kind: kindString, def: defaultStore},
	{key: "api_url", flag: "api-url", kind: kindURL, def: defaultAPIURL},
	{key: "api_key", kind: kindSecret}, // deliberately no flag: shell history keeps flags
	{key: "output", flag: "output", kind: kindEnum, allowed: []string{"table", "json", "csv"}, def: defaultOutput},
	{key: "no_headers", flag: "no-headers", kind: kindBool, def: "false"},
	{key: "quiet", flag: "quiet", kind: kindBool, def: "false"},
	{key: "debug", flag: "debug", kind: kindBool, def: "false"},
	{key: "busy_timeout", kind: kindDuration, def: defaultBusyTimeout.String()},
	{key: "webhook.delivery_budget", kind: kindDuration, def: defaultDeliveryBudget.String()},
}

// env is the environment variable of a key: INV_ + upper case, "." → "_".
func (s spec) env() string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(s.key, ".", "_"))
}

func lookupSpec(key string) (spec, bool) {
	for _, s := range specs {
		if s.key == key {
			return s, true
		}
	}
	return spec{}, false
}

// Keys returns the settable keys in display order.
func Keys() []string {
	keys := make([]string, len(specs))
	for i, s := range specs {
		keys[i] = s.key
	}
	return keys
}

// DefaultPath returns the config file used when --config is not given:
// $XDG_CONFIG_HOME/inv/config.yaml, else $HOME/.config/inv/config.yaml.
// A relative XDG_CONFIG_HOME is ignored, as the XDG spec requires. It
// returns "" when neither variable gives an absolute directory.
func DefaultPath(getenv func(string) (string, bool)) string {
	getenv = orNoEnv(getenv)
	if dir := xdgDir(getenv, "XDG_CONFIG_HOME"); dir != "" {
		return filepath.Join(dir, "inv", "config.yaml")
	}
	if home := homeDir(getenv); home != "" {
		return filepath.Join(home, ".config", "inv", "config.yaml")
	}
	return ""
}

// defaultDB is $XDG_DATA_HOME/inv/inv.db, else $HOME/.local/share/inv/inv.db.
func defaultDB(getenv func(string) (string, bool)) string {
	if dir := xdgDir(getenv, "XDG_DATA_HOME"); dir != "" {
		return filepath.Join(dir, "inv", "inv.db")
	}
	if home := homeDir(getenv); home != "" {
		return filepath.Join(home, ".local", "share", "inv", "inv.db")
	}
	return ""
}

func xdgDir(getenv func(string) (string, bool), name string) string {
	if dir, ok := getenv(name); ok && filepath.IsAbs(dir) {
		return filepath.Clean(dir)
	}
	return ""
}

func homeDir(getenv func(string) (string, bool)) string {
	if home, ok := getenv("HOME"); ok && strings.TrimSpace(home) != "" {
		return filepath.Clean(home)
	}
	return ""
}

func orNoEnv(getenv func(string) (string, bool)) func(string) (string, bool) {
	if getenv == nil {
		return func(string) (string, bool) { return "", false }
	}
	return getenv
}

// expandHome replaces a leading "~" or "~/" with the home directory.
// "~user/..." is left as it is.
func expandHome(path string, getenv func(string) (string, bool)) (string, bool) {
	if path != "~" && !strings.HasPrefix(path, "~/") && !strings.HasPrefix(path, "~"+string(filepath.Separator)) {
		return path, true
	}
	home := homeDir(getenv)
	if home == "" {
		return "", false
	}
	return filepath.Join(home, path[1:]), true
}

// origin says where a raw value came from, for Settings and error messages.
type origin struct {
	source string // SourceFlag, SourceEnv, SourceFile or SourceDefault
	where  string // "flag --db", "env INV_DB", "config file /x/config.yaml"
}

// Load builds the configuration. flags is the parsed flag set of the command
// being run (cobra's cmd.Flags()); only flags the user set override lower
// layers, and flags the set does not define are simply absent. getenv looks
// up environment variables (os.LookupEnv in production); nil means an empty
// environment. The returned Settings list every key of Keys() with its
// effective value and source.
//
// Empty environment variables and empty or null values in the config file
// count as not set; an empty flag value (--db "") is an error.
func Load(flags *pflag.FlagSet, getenv func(string) (string, bool)) (*Config, []Setting, error) {
	getenv = orNoEnv(getenv)

	path, explicit, err := configPath(flags, getenv)
	if err != nil {
		return nil, nil, err
	}
	v, err := readFile(path, explicit)
	if err != nil {
		return nil, nil, err
	}

	cfg := &Config{}
	settings := make([]Setting, 0, len(specs))
	var problems []string
	for _, s := range specs {
		raw, org, err := resolve(s, flags, getenv, v, path)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		shown, msg := assign(cfg, s, raw, getenv)
		if msg != "" {
			if org.source == SourceDefault {
				problems = append(problems, s.key+": "+msg)
			} else {
				problems = append(problems, invalidValue(s, raw, org, msg))
			}
			continue
		}
		settings = append(settings, Setting{Key: s.key, Value: shown, Source: org.source})
	}
	if len(problems) > 0 {
		return nil, nil, inventory.Invalidf("%s", strings.Join(problems, "\n"))
	}
	return cfg, settings, nil
}

// configPath returns the config file to read and whether --config named it.
func configPath(flags *pflag.FlagSet, getenv func(string) (string, bool)) (string, bool, error) {
	if raw, ok := changedFlag(flags, configFlag); ok {
		path := strings.TrimSpace(raw)
		if path == "" {
			return "", false, inventory.Invalidf("flag --config is empty: give the path of a YAML config file")
		}
		expanded, ok := expandHome(path, getenv)
		if !ok {
			return "", false, inventory.Invalidf("flag --config %q starts with ~ but HOME is not set", path)
		}
		return expanded, true, nil
	}
	return DefaultPath(getenv), false, nil
}

// readFile returns a fresh viper instance holding, when path names an
// existing file, its contents (and nothing else: no defaults, env or flags,
// so InConfig/Get answer for the file layer alone). A missing default file is
// fine; a missing explicit file is an error.
func readFile(path string, explicit bool) (*viper.Viper, error) {
	v := viper.NewWithOptions(viper.WithDecoderRegistry(textDecoders{}))
	if path == "" {
		return v, nil
	}
	v.SetConfigFile(path)
	v.SetConfigType("yaml") // whatever the extension; JSON parses as YAML too
	err := v.ReadInConfig()
	if err == nil {
		return v, nil
	}
	// SetConfigFile + missing file gives *fs.PathError, never
	// viper.ConfigFileNotFoundError (viper issue #1505).
	if errors.Is(err, fs.ErrNotExist) {
		if !explicit {
			return v, nil
		}
		return nil, inventory.Invalidf("config file %s (from --config) does not exist", path)
	}
	var parseErr viper.ConfigParseError
	if errors.As(err, &parseErr) {
		detail := err.Error()
		if inner := errors.Unwrap(parseErr); inner != nil {
			detail = inner.Error()
		}
		return nil, inventory.Invalidf("config file %s is not valid YAML: %s", path, detail)
	}
	return nil, fmt.Errorf("reading config file %s: %w", path, err)
}

// changedFlag returns the text of flag name if the user set it.
func changedFlag(flags *pflag.FlagSet, name string) (string, bool) {
	if flags == nil {
		return "", false
	}
	f := flags.Lookup(name)
	if f == nil || !f.Changed {
		return "", false
	}
	return f.Value.String(), true
}

// resolve finds the winning raw text of one key and where it came from.
func resolve(s spec, flags *pflag.FlagSet, getenv func(string) (string, bool), v *viper.Viper, path string) (string, origin, error) {
	if s.flag != "" {
		if raw, ok := changedFlag(flags, s.flag); ok {
			org := origin{source: SourceFlag, where: "flag --" + s.flag}
			raw = strings.TrimSpace(raw)
			if raw == "" {
				return "", org, inventory.Invalidf("flag --%s is empty: give a value or leave the flag out", s.flag)
			}
			return raw, org, nil
		}
	}
	if raw, ok := getenv(s.env()); ok && strings.TrimSpace(raw) != "" {
		return strings.TrimSpace(raw), origin{source: SourceEnv, where: "env " + s.env()}, nil
	}
	if v.InConfig(s.key) {
		org := origin{source: SourceFile, where: "config file " + path}
		raw, ok := scalarText(v.Get(s.key))
		if !ok {
			return "", org, inventory.Invalidf("%s in config file %s must be a single value, not a list or a map", s.key, path)
		}
		if raw = strings.TrimSpace(raw); raw != "" {
			return raw, org, nil
		}
	}
	return s.def, origin{source: SourceDefault, where: "default"}, nil
}

// scalarText returns the text of a file value; the file decoder keeps every
// scalar as a string, so anything else is a list or a map.
func scalarText(val any) (string, bool) {
	switch x := val.(type) {
	case nil:
		return "", true
	case string:
		return x, true
	default:
		return "", false
	}
}

// assign parses raw for key s into cfg. It returns the value to show in a
// Setting, or a reason the value is invalid (never containing a secret).
func assign(cfg *Config, s spec, raw string, getenv func(string) (string, bool)) (shown, problem string) {
	switch s.key {
	case "backend":
		val, msg := parseValue(s, raw)
		cfg.Backend = val
		return val, msg
	case "db":
		if raw == "" {
			raw = defaultDB(getenv)
			if raw == "" {
				return "", "no default database path: neither XDG_DATA_HOME nor HOME is set; set --db or INV_DB"
			}
		}
		path, ok := expandHome(raw, getenv)
		if !ok {
			return "", "starts with ~ but HOME is not set"
		}
		cfg.DB = path
		return path, ""
	case "store":
		cfg.Store = raw
		return raw, ""
	case "api_url":
		val, msg := parseValue(s, raw)
		cfg.APIURL = val
		return redactURL(val), msg
	case "api_key":
		val, msg := parseValue(s, raw)
		cfg.APIKey = val
		return Redact(val), msg
	case "output":
		val, msg := parseValue(s, raw)
		cfg.Output = val
		return val, msg
	case "no_headers", "quiet", "debug":
		b, msg := parseBool(raw)
		switch s.key {
		case "no_headers":
			cfg.NoHeaders = b
		case "quiet":
			cfg.Quiet = b
		case "debug":
			cfg.Debug = b
		}
		return strconv.FormatBool(b), msg
	case "busy_timeout", "webhook.delivery_budget":
		d, msg := parseDuration(raw, false) // a 0s delivery budget turns inline delivery off
		if s.key == "busy_timeout" {
			cfg.BusyTimeout = d
		} else {
			cfg.DeliveryBudget = d
		}
		return d.String(), msg
	}
	return "", "unknown key" // unreachable: every spec is handled above
}

// parseValue validates and normalises the text of a string-valued key. It
// returns a reason when the value is invalid.
func parseValue(s spec, raw string) (string, string) {
	switch s.kind {
	case kindEnum:
		val := strings.ToLower(raw)
		for _, a := range s.allowed {
			if val == a {
				return val, ""
			}
		}
		return "", "valid values are " + strings.Join(s.allowed, ", ")
	case kindURL:
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", "want an absolute http or https URL, like " + defaultAPIURL
		}
		return strings.TrimRight(raw, "/"), ""
	case kindSecret:
		if strings.IndexFunc(raw, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
			return "", "contains spaces or control characters"
		}
		return raw, ""
	}
	return raw, ""
}

// parseBool accepts what strconv.ParseBool accepts plus yes/no and on/off.
func parseBool(raw string) (bool, string) {
	switch strings.ToLower(raw) {
	case "yes", "on":
		return true, ""
	case "no", "off":
		return false, ""
	}
	b, err := strconv.ParseBool(raw)
	if err != nil {
		return false, "valid values are true, false (also 1/0, yes/no, on/off)"
	}
	return b, ""
}

// parseDuration wants a Go duration with a unit; a bare number is refused
// rather than read as nanoseconds.
func parseDuration(raw string, positive bool) (time.Duration, string) {
	d, err := time.ParseDuration(raw)
	switch {
	case err != nil:
		return 0, "want a duration with a unit, like 500ms, 30s or 2m"
	case d < 0:
		return 0, "must not be negative"
	case positive && d == 0:
		return 0, "must be more than zero"
	}
	return d, ""
}

// invalidValue words one validation problem: the key, the value (never a
// secret one), where it came from, and what would be valid.
func invalidValue(s spec, raw string, org origin, reason string) string {
	shown := fmt.Sprintf(" %q", raw)
	switch s.kind {
	case kindSecret:
		shown = ""
	case kindURL:
		shown = fmt.Sprintf(" %q", redactURL(raw))
	}
	return fmt.Sprintf("invalid %s value%s (from %s): %s", s.key, shown, org.where, reason)
}

// Redact hides an API key for display: its first 8 characters and "…" when
// it is long enough for that to reveal little (24 characters or more), else
// "(set)"; "" stays "".
func Redact(secret string) string {
	if secret == "" {
		return ""
	}
	r := []rune(secret)
	if len(r) >= 24 {
		return string(r[:8]) + "…"
	}
	return "(set)"
}

// redactURL hides a password in a URL's user info.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	return u.Redacted()
}
