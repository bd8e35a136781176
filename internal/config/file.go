package config

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"
)

// textDecoders gives viper a YAML decoder that keeps every scalar as the
// text written in the file. Viper's own YAML decoder resolves plain scalars
// to YAML types, so `store: 0042` became the octal number 34 and `db: 1e3`
// became 1000; here every value is parsed by this package from its text,
// exactly like flags and environment variables.
type textDecoders struct{}

func (textDecoders) Decoder(format string) (viper.Decoder, error) {
	if strings.EqualFold(format, "yaml") || strings.EqualFold(format, "yml") {
		return textYAML{}, nil
	}
	return nil, fmt.Errorf("no decoder for %q config files", format)
}

type textYAML struct{}

// Decode fills out with the file's top-level mapping. Scalars become
// strings, null becomes nil, mappings map[string]any, sequences []any.
func (textYAML) Decode(b []byte, out map[string]any) error {
	// Let yaml.v3 judge the file as viper would (syntax, duplicate keys,
	// a top level that is not a mapping) before walking its nodes.
	var check map[string]any
	if err := yaml.Unmarshal(b, &check); err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return err
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil
	}
	val, err := nodeText(doc.Content[0])
	if err != nil {
		return err
	}
	m, ok := val.(map[string]any)
	if !ok {
		return nil // a null document: no settings
	}
	for k, v := range m {
		out[k] = v
	}
	return nil
}

func nodeText(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.AliasNode:
		return nodeText(n.Alias)
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return nil, nil
		}
		return n.Value, nil
	case yaml.SequenceNode:
		list := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := nodeText(c)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		return list, nil
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		seen := make(map[string]string, len(n.Content)/2) // lower case → as written
		var merges []*yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind == yaml.AliasNode {
				k = k.Alias
			}
			if k.Tag == "!!merge" {
				merges = append(merges, n.Content[i+1])
				continue
			}
			lower := strings.ToLower(k.Value)
			if first, dup := seen[lower]; dup {
				return nil, fmt.Errorf("line %d: key %q repeats %q (keys ignore case)", k.Line, k.Value, first)
			}
			seen[lower] = k.Value
			v, err := nodeText(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[k.Value] = v
		}
		// `<<: *base` merges keys the mapping does not set itself.
		for _, mn := range merges {
			v, err := nodeText(mn)
			if err != nil {
				return nil, err
			}
			sources := []any{v}
			if list, ok := v.([]any); ok {
				sources = list
			}
			for _, src := range sources {
				sm, ok := src.(map[string]any)
				if !ok {
					return nil, errors.New("a merge key (<<) must refer to a mapping")
				}
				for sk, sv := range sm {
					if _, set := seen[strings.ToLower(sk)]; !set {
						seen[strings.ToLower(sk)] = sk
						m[sk] = sv
					}
				}
			}
		}
		return m, nil
	}
	return nil, nil
}
