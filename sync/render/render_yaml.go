package render

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// plainDir reads every *.yaml and *.yml file of dir, in name order.
// Sub-directories are not read.
func (r *Renderer) plainDir(ctx context.Context, b *budget, dir string) ([]object, error) {
	entries, err := fs.ReadDir(b.tree, dir)
	if err != nil {
		return nil, fileErr(dir, err)
	}
	var out []object
	for _, e := range entries { // fs.ReadDir sorts by name
		if ext := path.Ext(e.Name()); e.IsDir() || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		file := path.Join(dir, e.Name())
		data, err := b.readFile(file)
		if err != nil {
			return nil, err
		}
		if out, err = decodeInto(out, file, data, r.opts.Limits.Objects); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// decodeInto appends the objects of a multi-document YAML file, refusing
// to go past max objects. Empty documents (nothing, comments, a lone ---)
// are skipped; a List expands to its items.
func decodeInto(out []object, file string, b []byte, max int) ([]object, error) {
	tooMany := func(o object) error {
		return objectErr(file, o.String(), because(ErrTooMany, "more than the limit of %d objects", max))
	}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(b)))
	for doc := 1; ; doc++ {
		raw, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fileErr(file, because(ErrInvalid, "invalid YAML in document %d: %v", doc, err))
		}
		m, err := toMap(raw)
		if err != nil {
			return nil, fileErr(file, because(ErrInvalid, "invalid YAML in document %d: %v", doc, err))
		}
		if m == nil {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		if u.GetKind() != "List" {
			if err := check(file, fmt.Sprintf("document %d", doc), u); err != nil {
				return nil, err
			}
			o := object{obj: u, file: file}
			if sealed(u) {
				o.source = raw
			}
			if out = append(out, o); len(out) > max {
				return nil, tooMany(out[len(out)-1])
			}
			continue
		}
		items, ok := m["items"].([]any)
		if !ok && m["items"] != nil {
			return nil, fileErr(file, because(ErrInvalid, "document %d: a List's items must be a sequence", doc))
		}
		for i, it := range items {
			im, ok := it.(map[string]any)
			if !ok {
				return nil, fileErr(file, because(ErrInvalid, "document %d: List item %d is not a mapping", doc, i+1))
			}
			item := &unstructured.Unstructured{Object: im}
			if err := check(file, fmt.Sprintf("document %d, List item %d", doc, i+1), item); err != nil {
				return nil, err
			}
			if out = append(out, object{obj: item, file: file}); len(out) > max {
				return nil, tooMany(out[len(out)-1])
			}
		}
	}
}

// toMap converts one YAML document to the JSON types unstructured objects
// hold (int64 for integers); nil for an empty document.
func toMap(raw []byte) (map[string]any, error) {
	j, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return nil, err
	}
	j = bytes.TrimSpace(j)
	if len(j) == 0 || bytes.Equal(j, []byte("null")) {
		return nil, nil
	}
	if j[0] != '{' {
		return nil, errors.New("a document must be a mapping")
	}
	var m map[string]any
	if err := utiljson.Unmarshal(j, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// check refuses objects the API could not take: apiVersion, kind and
// metadata.name are required, and must be strings.
func check(file, where string, u *unstructured.Unstructured) error {
	what := func(format string, args ...any) error {
		return objectErr(file, describe(u), because(ErrInvalid, format, args...))
	}
	kind, _ := u.Object["kind"].(string)
	apiVersion, _ := u.Object["apiVersion"].(string)
	switch {
	case kind == "":
		return fileErr(file, because(ErrInvalid, "%s: kind is missing or not a string", where))
	case apiVersion == "":
		return what("apiVersion is missing or not a string")
	}
	if _, err := schema.ParseGroupVersion(apiVersion); err != nil {
		return what("apiVersion %q: %v", apiVersion, err)
	}
	meta, ok := u.Object["metadata"].(map[string]any)
	if !ok {
		return what("metadata is missing or not a mapping")
	}
	if name, _ := meta["name"].(string); name == "" {
		return what("metadata.name is missing or not a string")
	}
	if ns, ok := meta["namespace"]; ok && ns != nil {
		if _, ok := ns.(string); !ok {
			return what("metadata.namespace is not a string")
		}
	}
	return nil
}
