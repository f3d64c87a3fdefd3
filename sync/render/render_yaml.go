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

// plainDir reads every *.yaml and *.yml file of dir, listed as entries,
// in name order. Sub-directories are not read. A file whose blob the
// namespace's last render parsed is decoded from what it kept
// (render_cache.go).
func (r *Renderer) plainDir(ctx context.Context, b *budget, g *generation, dir string, entries []fs.DirEntry) ([]object, error) {
	var out []object
	for _, e := range entries { // in name order
		if ext := path.Ext(e.Name()); e.IsDir() || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		file := path.Join(dir, e.Name())
		var err error
		if out, err = r.plainFile(b, g, out, file); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// plainFile appends the objects of file, from the cache when it holds
// the file's blob.
func (r *Renderer) plainFile(b *budget, g *generation, out []object, file string) ([]object, error) {
	k, keyed := g.key(b.tree, file)
	if p, ok := g.get(k, keyed); ok {
		if err := b.charge(file, p.size, p.star); err != nil {
			return nil, err
		}
		for n, d := range p.docs {
			var err error
			if out, _, err = appendDocument(b, out, file, k.blob, n+1, d); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	data, star, err := b.readMeasured(file)
	if err != nil {
		return nil, err
	}
	out, docs, err := decodeInto(b, out, file, k.blob, data)
	if err != nil {
		return nil, err
	}
	if keyed {
		g.keep(k, newParsed(docs, int64(len(data)), star))
	}
	return out, nil
}

// decodeInto appends the objects of a multi-document YAML file, refusing
// those past the namespace's limit, and returns its documents as JSON. Empty
// documents (nothing, comments, a lone ---) are skipped; a List expands to
// its items. blob is the file's git object id, "" when unknown.
func decodeInto(bud *budget, out []object, file, blob string, b []byte) ([]object, []document, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(b)))
	var docs []document
	for n := 1; ; n++ {
		raw, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return out, docs, nil
		}
		if err != nil {
			return nil, nil, fileErr(file, because(ErrInvalid, "invalid YAML in document %d: %v", n, err))
		}
		j, err := toJSON(raw)
		if err != nil {
			return nil, nil, fileErr(file, because(ErrInvalid, "invalid YAML in document %d: %v", n, err))
		}
		d := document{json: j, yaml: raw}
		var keep bool
		if out, keep, err = appendDocument(bud, out, file, blob, n, d); err != nil {
			return nil, nil, err
		}
		if !keep {
			d.yaml = nil
		}
		docs = append(docs, d)
	}
}

// appendDocument appends the objects of document n of file, whose blob
// is blob ("" when unknown); keep says whether the object holds on to its
// YAML.
func appendDocument(b *budget, out []object, file, blob string, n int, d document) ([]object, bool, error) {
	if err := b.decodes(file, fmt.Sprintf("document %d", n), d.json); err != nil {
		return nil, false, err
	}
	m, err := toMap(d.json)
	if err != nil {
		return nil, false, fileErr(file, because(ErrInvalid, "invalid YAML in document %d: %v", n, err))
	}
	if m == nil {
		return out, false, nil
	}
	u := &unstructured.Unstructured{Object: m}
	if u.GetKind() != "List" {
		if err := check(file, fmt.Sprintf("document %d", n), u); err != nil {
			return nil, false, err
		}
		if err := b.produced(file, u); err != nil {
			return nil, false, err
		}
		o := object{obj: u, file: file, origin: origin(blob, n, 0)}
		if sealed(u) {
			o.source = d.yaml
		}
		return append(out, o), o.source != nil, nil
	}
	items, ok := m["items"].([]any)
	if !ok && m["items"] != nil {
		return nil, false, fileErr(file, because(ErrInvalid, "document %d: a List's items must be a sequence", n))
	}
	for i, it := range items {
		im, ok := it.(map[string]any)
		if !ok {
			return nil, false, fileErr(file, because(ErrInvalid, "document %d: List item %d is not a mapping", n, i+1))
		}
		item := &unstructured.Unstructured{Object: im}
		if err := check(file, fmt.Sprintf("document %d, List item %d", n, i+1), item); err != nil {
			return nil, false, err
		}
		if err := b.produced(file, item); err != nil {
			return nil, false, err
		}
		out = append(out, object{obj: item, file: file, origin: origin(blob, n, i+1)})
	}
	return out, false, nil
}

// toJSON converts one YAML document to JSON; nil for an empty document.
func toJSON(raw []byte) ([]byte, error) {
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
	return j, nil
}

// toMap decodes a document's JSON to the types unstructured objects hold
// (int64 for integers); nil for an empty document.
func toMap(j []byte) (map[string]any, error) {
	if j == nil {
		return nil, nil
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
