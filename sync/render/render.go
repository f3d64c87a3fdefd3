package render

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Scoper says whether a kind lives in a namespace. For a kind it does not
// know it returns an error meta.IsNoMatchError recognizes; any other error
// means it could not tell.
type Scoper interface {
	IsNamespaced(gvk schema.GroupVersionKind) (bool, error)
}

// Options configure a Renderer.
type Options struct {
	// Cluster names the cluster-specific directory ./<cluster>/<ns>/.
	Cluster string
	// AllowNamespaces are other namespaces objects may name.
	AllowNamespaces []string
	// AllowClusterScoped lets cluster-scoped kinds through.
	AllowClusterScoped bool
	// Limits bound what one Render may read, run and produce.
	Limits Limits
	// Scoper decides which kinds are namespaced; required.
	Scoper Scoper
	// Decrypter, when set, decrypts the objects a render returns.
	Decrypter Decrypter
	// BuildProgram is the kustomize build program (cmd/syncgate-render);
	// default: ProgramName in the directory of this executable. Without
	// it every kustomization fails, and not as the commit's fault.
	BuildProgram string
}

// Renderer renders namespaces of a commit. Safe for concurrent use.
type Renderer struct {
	opts    Options
	allowed map[string]bool
	builds  chan struct{} // a slot per kustomize build that may run
	program string        // the build program
	files   *fileCache
}

// New checks the options.
func New(opts Options) (*Renderer, error) {
	if opts.Cluster == "" || strings.Contains(opts.Cluster, "/") || !fs.ValidPath(opts.Cluster) || opts.Cluster == "." {
		return nil, fmt.Errorf("render: cluster name %q cannot name a directory", opts.Cluster)
	}
	if opts.Scoper == nil {
		return nil, errors.New("render: a Scoper is required")
	}
	opts.Limits = opts.Limits.withDefaults()
	program, err := buildProgram(opts)
	if err != nil {
		return nil, fmt.Errorf("render: the kustomize build program: %w", err)
	}
	allowed := map[string]bool{}
	for _, ns := range opts.AllowNamespaces {
		allowed[ns] = true
	}
	return &Renderer{opts: opts, allowed: allowed, builds: make(chan struct{}, opts.Limits.Builds), program: program, files: newFileCache(cacheBytes)}, nil
}

// object is a rendered object and the file it came from.
type object struct {
	obj  *unstructured.Unstructured
	file string
	// source is the YAML of an encrypted Secret as read or built, in its
	// written order, which SOPS's MAC covers (sealed, render_decrypt.go).
	source []byte
	// origin is the blob and document it was decoded from, "" when
	// unknown; pinned the image a pin set in it (render_keys.go).
	origin, pinned string
}

func (o object) String() string { return describe(o.obj) }

func describe(u *unstructured.Unstructured) string {
	switch {
	case u.GetKind() == "":
		return ""
	case u.GetName() == "":
		return u.GetKind()
	}
	return fmt.Sprintf("%s %q", u.GetKind(), u.GetName())
}

// Render returns the objects of namespace: ./<ns>/ first, then
// ./<cluster>/<ns>/, where an object replaces the same object of ./<ns>/.
// Either directory may be absent, not both: that is ErrNoConfig, since a
// namespace with no configuration at all is a typo or a wrong cluster name
// more often than a wish to delete everything (an empty directory renders
// nothing, deliberately). The order is deterministic: directory, file name,
// then document order. A render is bounded by the Limits; only their time
// bound ends it early, see RenderContext.
func (r *Renderer) Render(tree fs.FS, namespace string) ([]*unstructured.Unstructured, error) {
	objs, _, err := r.render(context.Background(), tree, namespace)
	return objs, err
}

// RenderContext is Render ended early when ctx is: a kustomize build is
// stopped at once, and the error is ctx's.
func (r *Renderer) RenderContext(ctx context.Context, tree fs.FS, namespace string) ([]*unstructured.Unstructured, error) {
	objs, _, err := r.render(ctx, tree, namespace)
	return objs, err
}

// RenderKeyed is RenderContext with a key for each object: two renders of
// namespace that give an object the same key made the same object, field
// for field, so what was derived from it once (its hash) holds. A key is
// empty when the render cannot tell (see render_keys.go).
func (r *Renderer) RenderKeyed(ctx context.Context, tree fs.FS, namespace string) ([]*unstructured.Unstructured, []string, error) {
	return r.render(ctx, tree, namespace)
}

// treeBytesLimiter is a tree whose git trees can be bounded in bytes
// (gitsource's, and inputs' recorder over one): a render bounds them at
// Limits.TreeBytes.
type treeBytesLimiter interface {
	LimitTreeBytes(n int64)
}

func (r *Renderer) render(ctx context.Context, tree fs.FS, namespace string) ([]*unstructured.Unstructured, []string, error) {
	if errs := validation.IsDNS1123Label(namespace); len(errs) > 0 {
		return nil, nil, fmt.Errorf("render: namespace %q: %s", namespace, strings.Join(errs, "; "))
	}
	if t, ok := tree.(treeBytesLimiter); ok {
		t.LimitTreeBytes(r.opts.Limits.TreeBytes)
	}
	b := newBudget(tree, r.opts.Limits, namespace)
	g := r.files.begin(namespace)
	dirs := []string{namespace, path.Join(r.opts.Cluster, namespace)}
	var layers [][]object
	var present []string
	var listings [][]fs.DirEntry
	for i, dir := range dirs {
		b.layer = i
		st, err := fs.Stat(tree, dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, nil, fileErr(dir, err)
		}
		if !st.IsDir() {
			return nil, nil, fileErr(dir, because(ErrInvalid, "not a directory"))
		}
		entries, err := b.list(dir)
		if err != nil {
			return nil, nil, err
		}
		objs, err := r.renderDir(ctx, b, g, dir, entries)
		if err != nil {
			return nil, nil, err
		}
		layers = append(layers, objs)
		present = append(present, dir)
		listings = append(listings, entries)
	}
	if len(present) == 0 {
		return nil, nil, &Error{Err: because(ErrNoConfig, "no configuration for namespace %s: neither %s/ nor %s/ exists in the repo", namespace, dirs[0], dirs[1])}
	}
	if err := r.confine(layers, namespace); err != nil {
		return nil, nil, err
	}
	merged, err := overlay(layers, namespace)
	if err != nil {
		return nil, nil, err
	}
	if err := r.applyPins(b, present, listings, namespace, merged); err != nil {
		return nil, nil, err
	}
	if err := r.decrypt(ctx, merged); err != nil {
		return nil, nil, err
	}
	g.store()
	out := make([]*unstructured.Unstructured, len(merged))
	for i, o := range merged {
		out[i] = o.obj
	}
	return out, keys(merged), nil
}

// renderDir builds dir with kustomize when it has a kustomization, else
// reads its YAML files among entries.
func (r *Renderer) renderDir(ctx context.Context, b *budget, g *generation, dir string, entries []fs.DirEntry) ([]object, error) {
	for _, name := range kustomizationNames {
		if _, err := fs.Stat(b.tree, path.Join(dir, name)); err == nil {
			return r.kustomize(ctx, b, dir, path.Join(dir, name))
		}
	}
	return r.plainDir(ctx, b, g, dir, entries)
}

// key identifies an object across API versions, one without a namespace
// as in namespace: the same before confine places it (as the budget counts
// objects while they are built) and after.
func key(u *unstructured.Unstructured, namespace string) string {
	gvk := u.GroupVersionKind()
	ns := u.GetNamespace()
	if ns == "" {
		ns = namespace
	}
	return gvk.Group + "/" + gvk.Kind + "/" + ns + "/" + u.GetName()
}

// overlay merges the layers of namespace: an object of a later layer (the
// cluster's directory) replaces the same object of an earlier one, in
// place; the same object twice within a layer is refused. Limits.Objects
// counts the same way as the layers are built (budget.produced).
func overlay(layers [][]object, namespace string) ([]object, error) {
	var out []object
	index := map[string]int{}
	for _, layer := range layers {
		seen := make(map[string]string, len(layer))
		for _, o := range layer {
			k := key(o.obj, namespace)
			if prev, dup := seen[k]; dup {
				where := "also in " + prev
				if prev == o.file {
					where = "twice in this file"
				}
				return nil, objectErr(o.file, o.String(), because(ErrDuplicate, "duplicate object: %s", where))
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

// confine places every object in namespace, refusing foreign namespaces and
// cluster-scoped kinds unless allowed. Kinds the Scoper does not know are
// decided by a CustomResourceDefinition among the rendered objects.
func (r *Renderer) confine(layers [][]object, namespace string) error {
	crds := map[schema.GroupKind]bool{}
	for _, layer := range layers {
		for _, o := range layer {
			if gk, namespaced, ok := definedKind(o.obj); ok {
				crds[gk] = namespaced
			}
		}
	}
	scopes := map[schema.GroupVersionKind]bool{}
	for _, layer := range layers {
		for _, o := range layer {
			namespaced, err := r.scope(scopes, crds, o)
			if err != nil {
				return err
			}
			if !namespaced {
				if !r.opts.AllowClusterScoped {
					return objectErr(o.file, o.String(), because(ErrClusterScoped, "cluster-scoped %s objects are not allowed", o.obj.GetKind()))
				}
				o.obj.SetNamespace("")
				continue
			}
			switch ns := o.obj.GetNamespace(); {
			case ns == "":
				o.obj.SetNamespace(namespace)
			case ns != namespace && !r.allowed[ns]:
				return objectErr(o.file, o.String(), because(ErrForeignNS, "namespace %q is not managed", ns))
			}
		}
	}
	return nil
}

func (r *Renderer) scope(cache map[schema.GroupVersionKind]bool, crds map[schema.GroupKind]bool, o object) (bool, error) {
	gvk := o.obj.GroupVersionKind()
	if namespaced, ok := cache[gvk]; ok {
		return namespaced, nil
	}
	namespaced, err := r.opts.Scoper.IsNamespaced(gvk)
	switch {
	case err == nil:
	case meta.IsNoMatchError(err):
		var defined bool
		if namespaced, defined = crds[gvk.GroupKind()]; !defined {
			return false, objectErr(o.file, o.String(), because(ErrUnknownKind,
				"unknown kind %s (%s): neither the cluster nor a CustomResourceDefinition of this commit defines it", gvk.Kind, gvk.GroupVersion()))
		}
	default:
		return false, fmt.Errorf("render: is %s namespaced: %w", gvk, err)
	}
	cache[gvk] = namespaced
	return namespaced, nil
}

// definedKind reads the kind a CustomResourceDefinition defines and whether
// it is namespaced. A CRD without a scope counts as namespaced, as apply
// reads it, so the API server's dry run tells what is wrong with it.
func definedKind(u *unstructured.Unstructured) (schema.GroupKind, bool, bool) {
	gvk := u.GroupVersionKind()
	if gvk.Kind != "CustomResourceDefinition" || gvk.Group != "apiextensions.k8s.io" {
		return schema.GroupKind{}, false, false
	}
	group, _, _ := unstructured.NestedString(u.Object, "spec", "group")
	kind, _, _ := unstructured.NestedString(u.Object, "spec", "names", "kind")
	scope, _, _ := unstructured.NestedString(u.Object, "spec", "scope")
	if kind == "" {
		return schema.GroupKind{}, false, false
	}
	return schema.GroupKind{Group: group, Kind: kind}, scope != "Cluster", true
}
