package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/inv-cli/inv/internal/inventory"
)

// SetValue writes key=value into the YAML config file at path, keeping the
// file's other keys, their order and comments. Missing directories are
// created with mode 0700 and a new file with mode 0600; an existing file
// keeps its mode, except that writing api_key removes group and other
// permissions. The file is replaced atomically (temp file + rename), and a
// symlinked file is written through the link.
//
// key must be spelled exactly as in Keys() (callers compare it with
// "api_key" to decide whether to echo the value). An unknown key or an
// invalid value is an error wrapping inventory.ErrInvalid; the API key is
// never quoted in an error.
func SetValue(path, key, value string) error {
	s, ok := lookupSpec(key)
	if !ok {
		return inventory.Invalidf("unknown config key %s; valid keys: %s", quoteKey(key), strings.Join(Keys(), ", "))
	}
	if strings.TrimSpace(path) == "" {
		return inventory.Invalidf("no config file path")
	}
	node, err := valueNode(s, strings.TrimSpace(value))
	if err != nil {
		return err
	}

	target, err := resolveLink(path)
	if err != nil {
		return err
	}
	mode := fs.FileMode(0o600)
	data, err := os.ReadFile(target)
	switch {
	case err == nil:
		if info, statErr := os.Stat(target); statErr == nil {
			mode = info.Mode().Perm()
		}
	case errors.Is(err, fs.ErrNotExist):
		data = nil
	default:
		return fmt.Errorf("reading config file %s: %w", target, err)
	}
	if s.kind == kindSecret {
		mode &^= 0o077
	}

	doc, err := parseDocument(target, data)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if doc.Kind == 0 { // nothing but comments and blank lines: yaml.v3 drops them, so keep them here
		buf.Write(commentLines(data))
		*doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}}
	}
	if err := setKey(doc.Content[0], s.key, node); err != nil {
		return inventory.Invalidf("config file %s: %v", target, err)
	}

	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("encoding config file %s: %w", target, err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("encoding config file %s: %w", target, err)
	}
	return writeAtomic(target, buf.Bytes(), mode)
}

// quoteKey shows an unknown key in an error, unless it looks like it could
// hold a secret (someone typing "api_key=sk_live_..." as the key).
func quoteKey(key string) string {
	if len(key) > 30 || strings.ContainsAny(key, "=: \t") {
		return "(not shown: it looks like it holds a value)"
	}
	return fmt.Sprintf("%q", key)
}

// valueNode validates value for s and returns the YAML node to store.
func valueNode(s spec, value string) (*yaml.Node, error) {
	invalid := func(reason string) error {
		if s.kind == kindSecret {
			return inventory.Invalidf("invalid %s value: %s", s.key, reason)
		}
		return inventory.Invalidf("invalid %s value %q: %s", s.key, value, reason)
	}
	if value == "" {
		return nil, invalid("empty; to go back to the default, remove the key from the config file")
	}
	str := func(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }
	switch s.kind {
	case kindBool:
		b, msg := parseBool(value)
		if msg != "" {
			return nil, invalid(msg)
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: fmt.Sprint(b)}, nil
	case kindDuration:
		if _, msg := parseDuration(value, s.key == "webhook.delivery_budget"); msg != "" {
			return nil, invalid(msg)
		}
		return str(value), nil
	default:
		v, msg := parseValue(s, value)
		if msg != "" {
			return nil, invalid(msg)
		}
		return str(v), nil
	}
}

// resolveLink follows a symlink at path so that writing replaces the file
// the link points to, not the link.
func resolveLink(path string) (string, error) {
	info, err := os.Lstat(path)
	if err != nil || info.Mode()&fs.ModeSymlink == 0 {
		return path, nil
	}
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", fmt.Errorf("config file %s is a symlink that cannot be followed: %w", path, err)
	}
	return target, nil
}

// parseDocument parses the existing file into a document whose root is a
// mapping. A null document gives an empty mapping; an empty or
// comment-only file gives a zero Node (Kind 0).
func parseDocument(path string, data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, inventory.Invalidf("config file %s is not valid YAML: %v; fix it before setting a key", path, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, inventory.Invalidf("config file %s holds more than one YAML document; inv reads only the first, so it will not rewrite the file", path)
	}
	if doc.Kind == 0 {
		return &doc, nil
	}
	if len(doc.Content) == 0 {
		doc.Content = []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		*root = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", HeadComment: root.HeadComment, LineComment: root.LineComment, FootComment: root.FootComment}
	}
	if root.Kind != yaml.MappingNode {
		return nil, inventory.Invalidf("config file %s is not a YAML mapping of keys to values", path)
	}
	return &doc, nil
}

// commentLines returns the comment lines of a file that holds no YAML
// content, each ending in a newline.
func commentLines(data []byte) []byte {
	var out bytes.Buffer
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			out.WriteString(strings.TrimRight(line, "\r"))
			out.WriteByte('\n')
		}
	}
	return out.Bytes()
}

// setKey sets key (possibly dotted, like webhook.delivery_budget) in the
// mapping m. A literal dotted key already in m is updated in place, since
// that is the one viper reads first; otherwise the key nests.
func setKey(m *yaml.Node, key string, value *yaml.Node) error {
	if i := findKey(m, key); i >= 0 || !strings.Contains(key, ".") {
		putKey(m, key, value)
		return nil
	}
	head, rest, _ := strings.Cut(key, ".")
	i := findKey(m, head)
	if i < 0 {
		child := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: head}, child)
		return setKey(child, rest, value)
	}
	child := m.Content[i+1]
	if child.Kind == yaml.ScalarNode && child.Tag == "!!null" {
		*child = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", LineComment: child.LineComment}
	}
	if child.Kind != yaml.MappingNode {
		return fmt.Errorf("%q is not a mapping, so %s cannot be set inside it", head, key)
	}
	return setKey(child, rest, value)
}

// putKey replaces the value of key in m (keeping the old value's comments)
// or appends it. Later entries matching key ignoring case are removed, as
// viper would see them as the same key.
func putKey(m *yaml.Node, key string, value *yaml.Node) {
	i := findKey(m, key)
	if i < 0 {
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, value)
		return
	}
	old := m.Content[i+1]
	value.HeadComment, value.LineComment, value.FootComment = old.HeadComment, old.LineComment, old.FootComment
	m.Content[i+1] = value
	for j := len(m.Content) - 2; j > i; j -= 2 {
		if strings.EqualFold(m.Content[j].Value, key) {
			m.Content = append(m.Content[:j], m.Content[j+2:]...)
		}
	}
}

// findKey returns the index of key's key node in mapping m, ignoring case,
// or -1.
func findKey(m *yaml.Node, key string) int {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := m.Content[i]; k.Kind == yaml.ScalarNode && strings.EqualFold(k.Value, key) {
			return i
		}
	}
	return -1
}

// writeAtomic writes data to path through a temp file in the same
// directory, so a crash never leaves a truncated config behind.
func writeAtomic(path string, data []byte, mode fs.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating config directory %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("writing config file %s: %w", path, err)
	}
	name := tmp.Name()
	fail := func(err error) error {
		_ = tmp.Close()
		_ = os.Remove(name)
		return fmt.Errorf("writing config file %s: %w", path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		return fail(err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		_ = os.Remove(name)
		return fmt.Errorf("writing config file %s: %w", path, err)
	}
	if err := os.Rename(name, path); err != nil {
		_ = os.Remove(name)
		return fmt.Errorf("writing config file %s: %w", path, err)
	}
	return nil
}
