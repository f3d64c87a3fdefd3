package apply

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/metadata"
)

// Marks syncgate keeps on the objects it applies. They override what the
// config repo may set.
const (
	// ManagedByLabel says syncgate applied the object.
	ManagedByLabel = "app.kubernetes.io/managed-by"
	ManagedByValue = "syncgate"
	// OwnerLabel names the managed namespace whose commit applied the
	// object. Prune deletes an object only when it names the namespace
	// pruning: an inventory, whoever wrote it, cannot make one namespace
	// delete another's objects.
	OwnerLabel = "syncgate.dev/owner"
	// AdoptedAnnotation is set on an object that existed before syncgate
	// first applied it (it took the object over instead of creating it).
	// An object carrying it is never pruned; remove it by hand to let
	// syncgate delete the object once the config repo drops it. It is
	// written by a field manager of its own, so later applies keep it.
	AdoptedAnnotation = "syncgate.dev/adopted"
)

// desired is one object ready to send.
type desired struct {
	ref        ObjectRef
	obj        *unstructured.Unstructured
	body       []byte // canonical JSON, exactly what is sent
	hash       string
	gvr        schema.GroupVersionResource
	namespaced bool
	via        *identity // the clients of the namespace it is applied for
}

func (d *desired) entry() Entry { return Entry{ObjectRef: d.ref, Hash: d.hash} }

func refOf(u *unstructured.Unstructured) ObjectRef {
	gvk := u.GroupVersionKind()
	return ObjectRef{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind, Namespace: u.GetNamespace(), Name: u.GetName()}
}

// Scoper answers which kinds are namespaced, from API discovery; it is the
// render.Scoper of syncgate run.
type Scoper struct{ a *Applier }

// Scoper shares the Applier's discovery cache.
func (a *Applier) Scoper() *Scoper { return &Scoper{a: a} }

// IsNamespaced reports whether gvk lives in a namespace.
func (s *Scoper) IsNamespaced(gvk schema.GroupVersionKind) (bool, error) {
	m, err := s.a.clients.Mapping(gvk)
	if err != nil {
		return false, err
	}
	return isNamespaced(m), nil
}

func isNamespaced(m *meta.RESTMapping) bool { return m.Scope.Name() == meta.RESTScopeNameNamespace }

// lookup is a mapping per kind for one pass over many objects: a kind
// discovery does not know would otherwise refresh discovery once per
// object.
type lookup func(schema.GroupVersionKind) (*meta.RESTMapping, error)

func (a *Applier) lookup() lookup {
	seen := map[schema.GroupVersionKind]mapped{}
	return func(gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
		m, ok := seen[gvk]
		if !ok {
			m.mapping, m.err = a.clients.Mapping(gvk)
			seen[gvk] = m
		}
		return m.mapping, m.err
	}
}

func (a *Applier) resource(d *desired) dynamic.ResourceInterface {
	if d.namespaced {
		return d.via.dyn.Resource(d.gvr).Namespace(d.ref.Namespace)
	}
	return d.via.dyn.Resource(d.gvr)
}

func (a *Applier) metadata(d *desired) metadata.ResourceInterface {
	if d.namespaced {
		return d.via.meta.Resource(d.gvr).Namespace(d.ref.Namespace)
	}
	return d.via.meta.Resource(d.gvr)
}

// prepare copies the objects, labels them as namespace's, places them (a
// namespaced object without a namespace goes to namespace) and hashes what
// will be sent. Kinds the API server does not know yet are accepted when a
// CRD of the same set defines them. It returns the objects it could prepare,
// to be sent with via, and a refusal for each other. With k, an object
// whose key says it is unchanged is not prepared again (memo.go).
func (a *Applier) prepare(namespace string, via *identity, objs []*unstructured.Unstructured, k *keyed) ([]*desired, []*ObjectError) {
	crds := definitions(objs)
	lookup := a.lookup()
	out := make([]*desired, 0, len(objs))
	seen := make(map[string]bool, len(objs))
	var errs []*ObjectError
	for i, o := range objs {
		d, ok := k.reuse(i, o, lookup)
		if !ok {
			var err error
			if d, err = prepareOne(namespace, o, lookup, crds); err != nil {
				errs = append(errs, &ObjectError{Object: refOf(o), Err: err})
				continue
			}
			k.note(i, d)
		}
		if seen[d.ref.id()] {
			errs = append(errs, &ObjectError{Object: d.ref, Err: errors.New("defined twice")})
			continue
		}
		seen[d.ref.id()] = true
		d.via = via
		out = append(out, d)
	}
	return out, errs
}

type mapped struct {
	mapping *meta.RESTMapping
	err     error
}

func prepareOne(namespace string, o *unstructured.Unstructured, lookup lookup, crds map[schema.GroupKind]definition) (*desired, error) {
	// A JSON round trip copies the object and gives its numbers one form,
	// whatever produced it (YAML decoders, kustomize).
	raw, err := json.Marshal(o.Object)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(raw); err != nil {
		return nil, err
	}
	if u.GetName() == "" {
		return nil, errors.New("metadata.name is missing")
	}
	gvk := u.GroupVersionKind()
	d := &desired{obj: u}
	if m, err := lookup(gvk); err == nil {
		d.gvr, d.namespaced = m.Resource, isNamespaced(m)
	} else if def, ok := crds[gvk.GroupKind()]; ok && meta.IsNoMatchError(err) {
		d.gvr, d.namespaced = gvk.GroupVersion().WithResource(def.plural), def.namespaced
	} else {
		return nil, err
	}
	switch {
	case !d.namespaced:
		u.SetNamespace("")
	case u.GetNamespace() == "":
		u.SetNamespace(namespace)
	}
	labels := u.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels[ManagedByLabel] = ManagedByValue
	if namespace != "" {
		labels[OwnerLabel] = namespace
	}
	u.SetLabels(labels)
	// encoding/json writes map keys sorted: the body is canonical, and its
	// hash changes only when the desired state does.
	if d.body, err = json.Marshal(u.Object); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(d.body)
	d.hash = hex.EncodeToString(sum[:16])
	d.ref = refOf(u)
	return d, nil
}

// definition is what a CRD of the set says about the kind it defines.
type definition struct {
	plural     string
	namespaced bool
}

func definitions(objs []*unstructured.Unstructured) map[schema.GroupKind]definition {
	out := map[schema.GroupKind]definition{}
	for _, o := range objs {
		if !isCRD(refOf(o)) {
			continue
		}
		group, _, _ := unstructured.NestedString(o.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(o.Object, "spec", "names", "kind")
		plural, _, _ := unstructured.NestedString(o.Object, "spec", "names", "plural")
		scope, _, _ := unstructured.NestedString(o.Object, "spec", "scope")
		if kind == "" || plural == "" {
			continue
		}
		out[schema.GroupKind{Group: group, Kind: kind}] = definition{plural: plural, namespaced: scope != "Cluster"}
	}
	return out
}

func isCRD(r ObjectRef) bool {
	return r.Group == "apiextensions.k8s.io" && r.Kind == "CustomResourceDefinition"
}

// isFoundation: what other objects of a commit may need to exist before
// they can even be dry-run.
func isFoundation(r ObjectRef) bool {
	return isCRD(r) || (r.Group == "" && r.Kind == "Namespace")
}

// allocates: the API server allocates a Service's cluster IP (and node
// ports) under one lock, one Service at a time.
func allocates(r ObjectRef) bool { return r.Group == "" && r.Kind == "Service" }
