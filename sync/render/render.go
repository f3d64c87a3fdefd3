package render

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Scoper says whether a kind lives in a namespace.
type Scoper interface {
	IsNamespaced(gvk schema.GroupVersionKind) (bool, error)
}

// Options configure a Renderer.
type Options struct {
	// Cluster names the cluster-specific directory ./<cluster>/<ns>/.
	Cluster string
	// AllowNamespaces are foreign namespaces objects may name.
	AllowNamespaces []string
	// AllowClusterScoped lets cluster-scoped kinds through.
	AllowClusterScoped bool
	// MaxFileBytes bounds each file read (default 1 MiB).
	MaxFileBytes int64
	// MaxObjects bounds the objects of one namespace (default 5000).
	MaxObjects int
	// Scoper decides which kinds are namespaced.
	Scoper Scoper
}

// Renderer renders namespaces of a commit.
type Renderer struct {
	opts    Options
	allowed map[string]bool
}

// New checks the options.
func New(opts Options) (*Renderer, error) {
	if opts.Cluster == "" {
		return nil, errors.New("render: cluster name is required")
	}
	if opts.Scoper == nil {
		return nil, errors.New("render: a Scoper is required")
	}
	if opts.MaxFileBytes <= 0 {
		opts.MaxFileBytes = 1 << 20
	}
	if opts.MaxObjects <= 0 {
		opts.MaxObjects = 5000
	}
	allowed := map[string]bool{}
	for _, ns := range opts.AllowNamespaces {
		allowed[ns] = true
	}
	return &Renderer{opts: opts, allowed: allowed}, nil
}

// object is a rendered object and the file it came from.
type object struct {
	obj  *unstructured.Unstructured
	file string
}

// Render returns the objects for namespace, in a stable order.
func (r *Renderer) Render(tree fs.FS, namespace string) ([]*unstructured.Unstructured, error) {
	dirs := []string{namespace, path.Join(r.opts.Cluster, namespace)}
	var layers [][]object
	found := false
	for _, dir := range dirs {
		st, err := fs.Stat(tree, dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fileErr(dir, err)
		}
		if !st.IsDir() {
			return nil, fileErr(dir, fmt.Errorf("%w: not a directory", ErrInvalid))
		}
		found = true
		objs, err := r.renderDir(tree, dir)
		if err != nil {
			return nil, err
		}
		layers = append(layers, objs)
	}
	if !found {
		return nil, fmt.Errorf("%w: neither %s/ nor %s/ exists in the repo", ErrNoConfig, dirs[0], dirs[1])
	}
	merged, err := overlay(layers)
	if err != nil {
		return nil, err
	}
	for _, dir := range dirs {
		if err := r.applyPins(tree, dir, merged); err != nil {
			return nil, err
		}
	}
	if len(merged) > r.opts.MaxObjects {
		return nil, fmt.Errorf("%w: %d objects for namespace %s, limit %d", ErrTooMany, len(merged), namespace, r.opts.MaxObjects)
	}
	if err := r.confine(merged, namespace); err != nil {
		return nil, err
	}
	out := make([]*unstructured.Unstructured, len(merged))
	for i, o := range merged {
		out[i] = o.obj
	}
	return out, nil
}

func key(u *unstructured.Unstructured) string {
	gvk := u.GroupVersionKind()
	return gvk.Group + "/" + gvk.Kind + "/" + u.GetNamespace() + "/" + u.GetName()
}

func describe(u *unstructured.Unstructured) string {
	return fmt.Sprintf("%s %q", u.GetKind(), u.GetName())
}

// overlay merges the layers: an object in a later layer (the cluster's
// directory) replaces the same object of an earlier one; duplicates within a
// layer are refused.
func overlay(layers [][]object) ([]object, error) {
	var out []object
	index := map[string]int{}
	for _, layer := range layers {
		seen := map[string]string{}
		for _, o := range layer {
			k := key(o.obj)
			if prev, dup := seen[k]; dup {
				return nil, &Error{File: o.file, Object: describe(o.obj), Err: fmt.Errorf("%w: also in %s", ErrDuplicate, prev)}
			}
			seen[k] = o.file
			if i, ok := index[k]; ok {
				out[i] = o
				continue
			}
			index[k] = len(out)
			out = append(out, o)
		}
	}
	return out, nil
}

var kustomizationNames = []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

func (r *Renderer) renderDir(tree fs.FS, dir string) ([]object, error) {
	for _, name := range kustomizationNames {
		if _, err := fs.Stat(tree, path.Join(dir, name)); err == nil {
			return r.kustomize(tree, dir)
		}
	}
	entries, err := fs.ReadDir(tree, dir)
	if err != nil {
		return nil, fileErr(dir, err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		ext := path.Ext(e.Name())
		if !e.IsDir() && (ext == ".yaml" || ext == ".yml") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	var out []object
	for _, n := range names {
		file := path.Join(dir, n)
		b, err := r.readFile(tree, file)
		if err != nil {
			return nil, err
		}
		objs, err := decode(file, b)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
		if len(out) > r.opts.MaxObjects {
			return nil, fileErr(file, fmt.Errorf("%w: more than %d objects", ErrTooMany, r.opts.MaxObjects))
		}
	}
	return out, nil
}

func (r *Renderer) readFile(tree fs.FS, file string) ([]byte, error) {
	f, err := tree.Open(file)
	if err != nil {
		return nil, fileErr(file, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, r.opts.MaxFileBytes+1))
	if err != nil {
		return nil, fileErr(file, err)
	}
	if int64(len(b)) > r.opts.MaxFileBytes {
		return nil, fileErr(file, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, r.opts.MaxFileBytes))
	}
	return b, nil
}

// decode reads a multi-document YAML file; List kinds expand to their items.
func decode(file string, b []byte) ([]object, error) {
	var out []object
	reader := utilyaml.NewYAMLReader(bufioReader(b))
	for doc := 1; ; doc++ {
		raw, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fileErr(file, fmt.Errorf("%w YAML in document %d: %v", ErrInvalid, doc, err))
		}
		if len(bytes.TrimSpace(stripComments(raw))) == 0 {
			continue
		}
		var m map[string]any
		if err := yaml.Unmarshal(raw, &m); err != nil {
			return nil, fileErr(file, fmt.Errorf("%w YAML in document %d: %v", ErrInvalid, doc, err))
		}
		if m == nil {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		if u.IsList() {
			list, err := u.ToList()
			if err != nil {
				return nil, fileErr(file, fmt.Errorf("%w list in document %d: %v", ErrInvalid, doc, err))
			}
			for i := range list.Items {
				if err := check(file, &list.Items[i]); err != nil {
					return nil, err
				}
				out = append(out, object{obj: &list.Items[i], file: file})
			}
			continue
		}
		if err := check(file, u); err != nil {
			return nil, err
		}
		out = append(out, object{obj: u, file: file})
	}
}

func check(file string, u *unstructured.Unstructured) error {
	switch {
	case u.GetAPIVersion() == "":
		return &Error{File: file, Object: describe(u), Err: fmt.Errorf("%w: apiVersion is missing", ErrInvalid)}
	case u.GetKind() == "":
		return &Error{File: file, Object: describe(u), Err: fmt.Errorf("%w: kind is missing", ErrInvalid)}
	case u.GetName() == "":
		return &Error{File: file, Object: u.GetKind(), Err: fmt.Errorf("%w: metadata.name is missing", ErrInvalid)}
	}
	return nil
}

func stripComments(b []byte) []byte {
	var out [][]byte
	for _, line := range bytes.Split(b, []byte("\n")) {
		t := bytes.TrimSpace(line)
		if len(t) == 0 || t[0] == '#' || bytes.Equal(t, []byte("---")) {
			continue
		}
		out = append(out, line)
	}
	return bytes.Join(out, []byte("\n"))
}

// confine sets missing namespaces and refuses foreign and cluster-scoped objects.
func (r *Renderer) confine(objs []object, namespace string) error {
	crds := map[schema.GroupKind]bool{} // kinds defined by CRDs in this commit: namespaced?
	for _, o := range objs {
		if o.obj.GetKind() == "CustomResourceDefinition" {
			group, _, _ := unstructured.NestedString(o.obj.Object, "spec", "group")
			kind, _, _ := unstructured.NestedString(o.obj.Object, "spec", "names", "kind")
			scope, _, _ := unstructured.NestedString(o.obj.Object, "spec", "scope")
			crds[schema.GroupKind{Group: group, Kind: kind}] = scope == "Namespaced"
		}
	}
	for _, o := range objs {
		gvk := o.obj.GroupVersionKind()
		namespaced, err := r.opts.Scoper.IsNamespaced(gvk)
		if err != nil {
			ns, ok := crds[gvk.GroupKind()]
			if !ok {
				return &Error{File: o.file, Object: describe(o.obj), Err: fmt.Errorf("%w %s: %v", ErrUnknownKind, gvk, err)}
			}
			namespaced = ns
		}
		if !namespaced {
			if !r.opts.AllowClusterScoped {
				return &Error{File: o.file, Object: describe(o.obj), Err: ErrClusterScoped}
			}
			o.obj.SetNamespace("")
			continue
		}
		switch ns := o.obj.GetNamespace(); {
		case ns == "":
			o.obj.SetNamespace(namespace)
		case ns != namespace && !r.allowed[ns]:
			return &Error{File: o.file, Object: describe(o.obj), Err: fmt.Errorf("%w: %q (this directory renders %q)", ErrForeignNS, ns, namespace)}
		}
	}
	return nil
}

var tagRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$|^sha256:[a-f0-9]{64}$`)

// applyPins applies the image-pin layout of dir: images_path plus one
// <name>.deployment file per Deployment holding a tag.
func (r *Renderer) applyPins(tree fs.FS, dir string, objs []object) error {
	entries, err := fs.ReadDir(tree, dir)
	if err != nil {
		return nil // directory absent: nothing to pin
	}
	var pins []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".deployment") {
			pins = append(pins, e.Name())
		}
	}
	if len(pins) == 0 {
		return nil
	}
	pathFile := path.Join(dir, "images_path")
	b, err := r.readFile(tree, pathFile)
	if err != nil {
		return fileErr(pathFile, fmt.Errorf("%w: %s pins images but has no images_path file", ErrInvalid, dir))
	}
	prefix := strings.TrimRight(strings.TrimSpace(string(b)), "/")
	if prefix == "" || strings.ContainsAny(prefix, " \t\n") {
		return fileErr(pathFile, fmt.Errorf("%w: %q is not an image path", ErrInvalid, prefix))
	}
	sort.Strings(pins)
	for _, p := range pins {
		file := path.Join(dir, p)
		name := strings.TrimSuffix(p, ".deployment")
		tb, err := r.readFile(tree, file)
		if err != nil {
			return err
		}
		tag := strings.TrimSpace(string(tb))
		if !tagRE.MatchString(tag) {
			return fileErr(file, fmt.Errorf("%w: %q is not an image tag", ErrInvalid, tag))
		}
		image := prefix + "/" + name + ":" + tag
		if strings.HasPrefix(tag, "sha256:") {
			image = prefix + "/" + name + "@" + tag
		}
		if err := pin(objs, name, image); err != nil {
			return fileErr(file, err)
		}
	}
	return nil
}

func pin(objs []object, name, image string) error {
	for _, o := range objs {
		if o.obj.GetKind() != "Deployment" || o.obj.GetName() != name {
			continue
		}
		containers, _, _ := unstructured.NestedSlice(o.obj.Object, "spec", "template", "spec", "containers")
		for i, c := range containers {
			cm, ok := c.(map[string]any)
			if ok && cm["name"] == name {
				cm["image"] = image
				containers[i] = cm
				return unstructured.SetNestedSlice(o.obj.Object, containers, "spec", "template", "spec", "containers")
			}
		}
		return fmt.Errorf("%w: Deployment %q has no container %q", ErrPinTarget, name, name)
	}
	return fmt.Errorf("%w: no Deployment %q is rendered for this namespace", ErrPinTarget, name)
}
