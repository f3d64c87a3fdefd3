package decrypt

import (
	"errors"
	"sort"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/syncgate/syncgate/sync/render"
)

// document is a SOPS document read into the walker's model: its trees
// (one per YAML document), its metadata and a way to write it back in
// its own format once decrypted.
type document struct {
	trees []mapping
	meta  *metadata
	emit  func() ([]byte, error)
}

// load reads a SOPS document of format f. SOPS's dotenv and INI formats
// are not read: their metadata is flattened into keys of the document.
func load(in []byte, f format) (*document, error) {
	var (
		doc *document
		err error
	)
	switch f {
	case formatYAML:
		doc, err = readYAML(in)
	case formatJSON, formatBinary:
		doc, err = readJSON(in)
	default:
		return nil, refuse("a SOPS dotenv or INI document, which syncgate does not read: encrypt the file as YAML, JSON or binary (sops --input-type binary)")
	}
	if err != nil {
		return nil, refuse("not a SOPS document SOPS can read: %s", firstLine(err.Error()))
	}
	if doc.meta == nil {
		return nil, refuse("not a SOPS document SOPS can read: it has no sops section")
	}
	if _, err := time.Parse(time.RFC3339, doc.meta.LastModified); err != nil {
		return nil, refuse("not a SOPS document SOPS can read: its lastmodified is not a time")
	}
	if err := doc.meta.check(); err != nil {
		return nil, err
	}
	return doc, nil
}

// open finds the data key with the offered keys, within budget, decrypts
// the document in place and checks its MAC, as `sops decrypt` does.
func (d *document) open(keys *Keys, budget *render.KeyBudget) ([]byte, error) {
	r, err := d.meta.rules()
	if err != nil {
		return nil, refuse("not a SOPS document SOPS can read: %v", err)
	}
	dataKey, err := d.meta.dataKey(keys, budget)
	if errors.Is(err, render.ErrTooMany) {
		return nil, err
	}
	if err != nil {
		return nil, refuse("no decryption key offered opens it (it is encrypted for %s; keys offered: %s)", d.meta.recipients(), offered(keys))
	}
	w := newWalker(r, dataKey)
	for _, t := range d.trees {
		if err := w.mapping(t, nil, nil); err != nil {
			return nil, refuse(undecryptable)
		}
	}
	if !d.meta.checkMAC(dataKey, w.sum()) {
		return nil, refuse(macMismatch)
	}
	return dataKey, nil
}

// decryptObject decrypts an object already read (a Secret as the render
// left it) with a data key open checked, by the rules of meta. Its MAC is
// not checked here: it was, on the object as written.
func decryptObject(obj map[string]any, meta *metadata, dataKey []byte) error {
	r, err := meta.rules()
	if err != nil {
		return refuse("not a SOPS document SOPS can read: %v", err)
	}
	delete(obj, "sops")
	if err := newWalker(r, dataKey).mapping(objectMapping(obj), nil, nil); err != nil {
		return refuse(undecryptable)
	}
	return nil
}

// objectMapping is an unstructured object in the walker's model, each
// leaf written back as unstructured holds it.
func objectMapping(obj map[string]any) mapping {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	m := mapping{}
	for _, k := range keys {
		k := k
		m = append(m, entry{key: k, value: objectValue(obj[k], func(v any) { obj[k] = v })})
	}
	return m
}

func objectValue(v any, set func(any)) any {
	switch v := v.(type) {
	case map[string]any:
		return objectMapping(v)
	case []any:
		s := sequence{}
		for i := range v {
			i := i
			s = append(s, objectValue(v[i], func(x any) { v[i] = x }))
		}
		return s
	case nil:
		return nil
	}
	return &leaf{v: v, set: func(plain any) { set(unstructuredValue(plain)) }}
}

func unstructuredValue(v any) any {
	switch v := v.(type) {
	case int:
		return int64(v)
	case []byte:
		return string(v)
	case time.Time:
		return v.Format(time.RFC3339Nano)
	}
	return v
}

// emitAs writes a decrypted document in format to.
func (d *document) emitAs(from, to format) ([]byte, error) {
	switch {
	case to == from:
		return d.emit()
	case to == formatBinary:
		return emitBinary(d.trees[0])
	case to == formatJSON:
		return emitJSON(d.trees[0])
	case to == formatYAML:
		return emitYAMLModel(d.trees)
	}
	return nil, errors.New("dotenv and INI are not written")
}

// emitYAMLModel writes the model as YAML (a JSON document in an entry
// named .yaml), comments left out.
func emitYAMLModel(trees []mapping) ([]byte, error) {
	var out []byte
	for _, t := range trees {
		b, err := yaml.Marshal(modelNode(t))
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
	}
	return out, nil
}

func modelNode(v any) *yaml.Node {
	switch v := v.(type) {
	case mapping:
		n := &yaml.Node{Kind: yaml.MappingNode}
		for _, e := range v {
			if e.comment == nil {
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: e.key}, modelNode(e.value))
			}
		}
		return n
	case sequence:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		for _, it := range v {
			if _, ok := it.(*commentLine); !ok {
				n.Content = append(n.Content, modelNode(it))
			}
		}
		return n
	case *leaf:
		n := &yaml.Node{}
		setScalar(n, v.v)
		return n
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
}
