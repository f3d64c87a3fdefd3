package decrypt

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
)

// yamlIndent is the indentation SOPS writes YAML with.
const yamlIndent = 4

// yamlFile is a SOPS YAML document read node by node, so that what is
// decrypted is written back where it was, comments included.
type yamlFile struct {
	docs     []*yaml.Node
	comments []*commentField
}

// commentField is one comment string of a node, line by line.
type commentField struct {
	at    *string
	lines []string
}

func readYAML(in []byte) (*document, error) {
	// Decoding into a map refuses what SOPS refuses (duplicate keys).
	if err := yaml.NewDecoder(bytes.NewReader(in)).Decode(&map[string]any{}); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("not YAML: %w", err)
	}
	f := &yamlFile{}
	doc := &document{}
	dec := yaml.NewDecoder(bytes.NewReader(in))
	for {
		n := &yaml.Node{}
		if err := dec.Decode(n); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("not YAML: %w", err)
		}
		meta, err := f.takeMetadata(n, len(f.docs) == 0)
		if err != nil {
			return nil, err
		}
		if meta != nil {
			doc.meta = meta
		}
		m, err := f.branch(n, nil, false)
		if err != nil {
			return nil, err
		}
		f.docs = append(f.docs, n)
		doc.trees = append(doc.trees, m)
	}
	doc.emit = f.emit
	return doc, nil
}

// takeMetadata removes the sops entries of a document's top mapping and
// reads the first document's.
func (f *yamlFile) takeMetadata(doc *yaml.Node, first bool) (*metadata, error) {
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, nil
	}
	top := doc.Content[0]
	var meta *metadata
	for i := 0; i < len(top.Content); {
		if top.Content[i].Value != "sops" || top.Content[i].Tag != "!!str" {
			i += 2
			continue
		}
		if first {
			if meta != nil {
				return nil, errors.New("more than one sops section")
			}
			meta = &metadata{}
			if err := top.Content[i+1].Decode(meta); err != nil {
				return nil, errors.New("its sops section is not a mapping SOPS writes")
			}
		}
		top.Content = append(top.Content[:i], top.Content[i+2:]...)
	}
	return meta, nil
}

// addComments adds the comment lines of one comment field, each
// writable back into it. The walk needs no inline flag: a node keeps its
// line comments on its line.
func (f *yamlFile) addComments(to []any, at *string, asEntry bool) []any {
	if *at == "" {
		return to
	}
	field := &commentField{at: at, lines: strings.Split(*at, "\n")}
	f.comments = append(f.comments, field)
	for i, line := range field.lines {
		if line == "" {
			continue
		}
		i := i
		c := &commentLine{text: line[1:], set: func(s string) { field.lines[i] = "#" + s }}
		if asEntry {
			to = append(to, entry{comment: c})
		} else {
			to = append(to, c)
		}
	}
	return to
}

// branch reads a mapping (or a document) in the order SOPS walks it:
// comments above and beside each key, the value, the comments below.
func (f *yamlFile) branch(n *yaml.Node, into mapping, handled bool) (mapping, error) {
	var items []any
	if !handled {
		items = f.addComments(items, &n.HeadComment, true)
		items = f.addComments(items, &n.LineComment, true)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			m, err := f.branch(c, nil, false)
			if err != nil {
				return nil, err
			}
			for _, e := range m {
				items = append(items, e)
			}
		}
	case yaml.SequenceNode:
		return nil, errors.New("a YAML document that is a sequence")
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			var err error
			if items, err = f.pair(items, n.Content[i], n.Content[i+1]); err != nil {
				return nil, err
			}
		}
	case yaml.ScalarNode:
		if n.ShortTag() != "!!null" {
			return nil, errors.New("a YAML document that is a value")
		}
	case yaml.AliasNode:
		return nil, errors.New("a YAML alias (SOPS writes none)")
	}
	if !handled {
		items = f.addComments(items, &n.FootComment, true)
	}
	for _, it := range items {
		into = append(into, it.(entry))
	}
	return into, nil
}

func (f *yamlFile) pair(items []any, k, v *yaml.Node) ([]any, error) {
	items = f.addComments(items, &k.HeadComment, true)
	items = f.addComments(items, &k.LineComment, true)
	scalar := v.Kind == yaml.ScalarNode || v.Kind == yaml.AliasNode
	if scalar {
		items = f.addComments(items, &v.HeadComment, true)
		items = f.addComments(items, &v.LineComment, true)
	}
	var key any
	if err := k.Decode(&key); err != nil {
		return nil, err
	}
	ks, ok := key.(string)
	if !ok {
		return nil, fmt.Errorf("a key that is not a string (%v)", key)
	}
	val, err := f.value(v, scalar)
	if err != nil {
		return nil, err
	}
	items = append(items, entry{key: ks, value: val})
	if scalar {
		items = f.addComments(items, &v.FootComment, true)
	}
	return f.addComments(items, &k.FootComment, true), nil
}

func (f *yamlFile) value(n *yaml.Node, handled bool) (any, error) {
	switch n.Kind {
	case yaml.SequenceNode:
		var s sequence
		var items []any
		if !handled {
			items = f.addComments(items, &n.HeadComment, false)
			items = f.addComments(items, &n.LineComment, false)
		}
		for _, it := range n.Content {
			items = f.addComments(items, &it.HeadComment, false)
			items = f.addComments(items, &it.LineComment, false)
			v, err := f.value(it, true)
			if err != nil {
				return nil, err
			}
			items = append(items, v)
			items = f.addComments(items, &it.FootComment, false)
		}
		if !handled {
			items = f.addComments(items, &n.FootComment, false)
		}
		return append(s, items...), nil
	case yaml.MappingNode:
		return f.branch(n, mapping{}, handled)
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, err
		}
		if v == nil {
			return nil, nil
		}
		return &leaf{v: v, set: func(plain any) { setScalar(n, plain) }}, nil
	case yaml.AliasNode:
		return nil, errors.New("a YAML alias (SOPS writes none)")
	}
	return nil, nil
}

// setScalar writes a decrypted value into its node as YAML writes that
// value, keeping the node's comments.
func setScalar(n *yaml.Node, v any) {
	var fresh yaml.Node
	if err := fresh.Encode(v); err != nil {
		return
	}
	n.Kind, n.Tag, n.Value, n.Style, n.Content = fresh.Kind, fresh.Tag, fresh.Value, fresh.Style, fresh.Content
}

func (f *yamlFile) emit() ([]byte, error) {
	for _, c := range f.comments {
		*c.at = strings.Join(c.lines, "\n")
	}
	var b bytes.Buffer
	e := yaml.NewEncoder(&b)
	e.SetIndent(yamlIndent)
	for _, d := range f.docs {
		if err := e.Encode(d); err != nil {
			return nil, err
		}
	}
	if err := e.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
