package apply

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// Plan is what applying a commit would do to one namespace, as Preview
// finds it: nothing of it was written.
type Plan struct {
	// Created are objects that do not exist yet, Changed the existing
	// ones the commit would change, each with the fields it would set.
	Created []ObjectChange `json:"created,omitempty"`
	Changed []ObjectChange `json:"changed,omitempty"`
	// Pruned are objects of the inventory the commit drops that prune
	// would delete; Kept those it would leave in place, and why.
	Pruned []ObjectRef  `json:"pruned,omitempty"`
	Kept   []KeptObject `json:"kept,omitempty"`
	// Unchanged counts the objects the commit leaves as they are.
	Unchanged int `json:"unchanged"`
}

// ObjectChange is one object a commit would create or change, and the
// fields it would set there.
type ObjectChange struct {
	Object ObjectRef     `json:"object"`
	Fields []FieldChange `json:"fields,omitempty"`
	// Note says what could not be checked, such as an object of a kind
	// the same commit defines, which cannot be dry-run before its CRD is
	// served.
	Note string `json:"note,omitempty"`
}

// Preview finds what Apply would do with the same arguments, without
// writing anything: objects whose hash equals their prev entry's are
// unchanged and not sent (as Apply does); every other object is read and
// dry-run (server-side apply, dryRun=All) as namespace's identity, and
// what the dry run answers is compared with the live object field by
// field, so server defaults, which both carry, are no change. The objects
// of prev the commit drops are read to tell what prune would delete from
// what it would keep. Refusals come as a *ValidationError naming every
// refused object, as from Apply; other errors are trouble (Transient).
func (a *Applier) Preview(ctx context.Context, namespace string, objs []*unstructured.Unstructured, prev []Entry) (*Plan, error) {
	via, err := a.clients.of(namespace)
	if err != nil {
		return nil, fmt.Errorf("preview: %w", err)
	}
	all, refused := a.prepare(namespace, via, objs, nil)
	last := hashes(prev)
	plan := &Plan{}
	var send []*desired
	now := make([]Entry, 0, len(all))
	for _, d := range all {
		now = append(now, d.entry())
		if last[d.ref.id()] == d.hash {
			plan.Unchanged++
			continue
		}
		send = append(send, d)
	}
	changes, more, err := a.previewObjects(ctx, send)
	refused = append(refused, more...)
	if err != nil {
		return nil, err
	}
	if len(refused) > 0 {
		sortErrors(refused)
		return nil, &ValidationError{Objects: refused}
	}
	for _, c := range changes {
		switch {
		case c.create:
			plan.Created = append(plan.Created, c.ObjectChange)
		case len(c.Fields) > 0:
			plan.Changed = append(plan.Changed, c.ObjectChange)
		default:
			plan.Unchanged++
		}
	}
	sortChanges(plan.Created)
	sortChanges(plan.Changed)
	if a.opts.Prune {
		if plan.Pruned, plan.Kept, err = a.previewPrune(ctx, namespace, via, prev, now); err != nil {
			return nil, err
		}
	}
	return plan, nil
}

type previewed struct {
	ObjectChange
	create bool
}

// previewObjects reads and dry-runs each object; it returns the changes,
// the refusals, and trouble that kept the server from judging.
func (a *Applier) previewObjects(ctx context.Context, ds []*desired) ([]previewed, []*ObjectError, error) {
	var mu sync.Mutex
	var out []previewed
	var refused []*ObjectError
	err := a.each(ctx, [][]*desired{ds}, []int{a.opts.Concurrency}, func(ctx context.Context, d *desired) error {
		c, err := a.previewOne(ctx, d)
		if err != nil {
			oe := &ObjectError{Object: d.ref, Err: err}
			if Transient(err) || ctx.Err() != nil {
				return oe
			}
			mu.Lock()
			refused = append(refused, oe)
			mu.Unlock()
			return nil
		}
		mu.Lock()
		out = append(out, c)
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("preview %w", err)
	}
	return out, refused, nil
}

func (a *Applier) previewOne(ctx context.Context, d *desired) (previewed, error) {
	c := previewed{ObjectChange: ObjectChange{Object: d.ref}}
	if _, err := a.clients.Mapping(d.ref.GroupVersionKind()); meta.IsNoMatchError(err) {
		// Its CRD is in the same commit: nothing serves the kind yet.
		c.create, c.Note = true, "its kind is defined by this commit: not dry-run"
		c.Fields = objectFields(d.ref, asStored(d.obj).Object)
		return c, nil
	}
	live, err := a.resource(d).Get(ctx, d.ref.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		live = nil
	case err != nil:
		return c, err
	}
	after, err := a.resource(d).Patch(ctx, d.ref.Name, types.ApplyPatchType, d.body, a.applyOptions(true))
	if err != nil {
		return c, err
	}
	if live == nil {
		c.create = true
		c.Fields = objectFields(d.ref, asStored(d.obj).Object)
		return c, nil
	}
	c.Fields = diffObjects(d.ref, live.Object, after.Object, asStored(d.obj).Object, a.ownedFields(live.GetManagedFields()))
	return c, nil
}

// ownedFields is the field set syncgate's field manager applied to the
// live object, decoded, or nil.
func (a *Applier) ownedFields(entries []metav1.ManagedFieldsEntry) map[string]any {
	for _, e := range entries {
		if e.Manager != a.opts.FieldManager || e.Operation != metav1.ManagedFieldsOperationApply || e.FieldsV1 == nil {
			continue
		}
		var m map[string]any
		if json.Unmarshal(e.FieldsV1.GetRawBytes(), &m) == nil {
			return m
		}
	}
	return nil
}

// previewPrune is prune without the deletes: what it would delete and what
// it would keep, and why.
func (a *Applier) previewPrune(ctx context.Context, namespace string, via *identity, prev, now []Entry) ([]ObjectRef, []KeptObject, error) {
	check, kept, err := a.dropped(namespace, via, prev, ids(now))
	if err != nil {
		return nil, nil, fmt.Errorf("preview prune %w", err)
	}
	var mu sync.Mutex
	var pruned []ObjectRef
	err = a.each(ctx, [][]*desired{check}, []int{a.opts.Concurrency}, func(ctx context.Context, d *desired) error {
		live, err := a.metadata(d).Get(ctx, d.ref.Name, metav1.GetOptions{})
		why := ""
		switch {
		case apierrors.IsNotFound(err):
			return nil
		case apierrors.IsForbidden(err):
			why = "not readable as namespace " + namespace
		case err != nil:
			return fmt.Errorf("preview prune %s: %w", d.ref, err)
		default:
			why = disowned(live, namespace)
		}
		mu.Lock()
		defer mu.Unlock()
		if why != "" {
			kept = append(kept, KeptObject{Object: d.ref, Reason: why})
		} else {
			pruned = append(pruned, d.ref)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	sortRefs(pruned)
	sortKept(kept)
	return pruned, kept, nil
}

// Total counts the objects the plan would create, change or prune.
func (p *Plan) Total() int { return len(p.Created) + len(p.Changed) + len(p.Pruned) }
