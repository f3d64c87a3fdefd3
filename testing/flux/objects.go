package flux

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
)

// The resources the benchmark writes.
var (
	GitRepositories = schema.GroupVersionResource{Group: "source.toolkit.fluxcd.io", Version: "v1", Resource: "gitrepositories"}
	Kustomizations  = schema.GroupVersionResource{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Resource: "kustomizations"}
)

// CreateGitRepository creates source name in SystemNamespace. Nothing
// reconciles it: SetArtifact plays source-controller's part.
func CreateGitRepository(ctx context.Context, dyn dynamic.Interface, name string) error {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "source.toolkit.fluxcd.io/v1",
		"kind":       "GitRepository",
		"metadata":   map[string]any{"name": name, "namespace": SystemNamespace},
		"spec": map[string]any{
			"url":      "http://127.0.0.1/" + name + ".git", // never fetched
			"interval": "1h",
			"ref":      map[string]any{"branch": "main"},
		},
	}}
	_, err := dyn.Resource(GitRepositories).Namespace(SystemNamespace).Create(ctx, u, metav1.CreateOptions{})
	return err
}

// SetArtifact records a as the source's artifact, Ready, as
// source-controller does once it has packed a revision.
func SetArtifact(ctx context.Context, dyn dynamic.Interface, name string, a Artifact) error {
	res := dyn.Resource(GitRepositories).Namespace(SystemNamespace)
	u, err := res.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	now := metav1.Now().UTC().Format(time.RFC3339)
	u.Object["status"] = map[string]any{
		"observedGeneration": u.GetGeneration(),
		"artifact": map[string]any{
			"path":           a.Path,
			"url":            a.URL,
			"revision":       a.Revision,
			"digest":         a.Digest,
			"size":           a.Size,
			"lastUpdateTime": now,
		},
		"conditions": []any{map[string]any{
			"type": "Ready", "status": "True", "reason": "Succeeded",
			"message":            "stored artifact for revision '" + a.Revision + "'",
			"lastTransitionTime": now, "observedGeneration": u.GetGeneration(),
		}},
	}
	_, err = res.UpdateStatus(ctx, u, metav1.UpdateOptions{})
	return err
}

// KustomizationSpec is what the benchmark varies in a Kustomization.
type KustomizationSpec struct {
	Name, Source, Path, TargetNamespace string
}

// CreateKustomization creates a Kustomization in SystemNamespace that
// applies Path of Source into TargetNamespace with pruning, and waits for
// every object to be ready (spec.wait) before it reports Ready, as
// syncgate waits for the rollout before it reports deployed.
func CreateKustomization(ctx context.Context, dyn dynamic.Interface, k KustomizationSpec) error {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kustomize.toolkit.fluxcd.io/v1",
		"kind":       "Kustomization",
		"metadata":   map[string]any{"name": k.Name, "namespace": SystemNamespace},
		"spec": map[string]any{
			"interval":        "1h",
			"path":            k.Path,
			"prune":           true,
			"wait":            true,
			"timeout":         "10m",
			"targetNamespace": k.TargetNamespace,
			"sourceRef":       map[string]any{"kind": "GitRepository", "name": k.Source},
		},
	}}
	_, err := dyn.Resource(Kustomizations).Namespace(SystemNamespace).Create(ctx, u, metav1.CreateOptions{})
	return err
}

// Forget deletes the named objects of resource without the controller's
// finalizers, so a stopped controller does not hold them up and nothing
// they applied is pruned: the benchmark deletes namespaces itself.
func Forget(ctx context.Context, dyn dynamic.Interface, resource schema.GroupVersionResource, names ...string) error {
	res := dyn.Resource(resource).Namespace(SystemNamespace)
	for _, name := range names {
		_, err := res.Patch(ctx, name, types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
		if err == nil {
			err = res.Delete(ctx, name, metav1.DeleteOptions{})
		}
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete %s %s: %w", resource.Resource, name, err)
		}
	}
	return nil
}

// ReadyWatch notes when each Kustomization first reported Ready at each
// revision: Ready True, lastAppliedRevision that revision, its generation
// observed.
type ReadyWatch struct {
	mu   sync.Mutex
	at   map[string]time.Time // name + " " + revision
	last map[string]string    // name → its latest Ready condition, for errors
	wake chan struct{}
}

// WatchReady follows the Kustomizations in SystemNamespace until ctx ends.
func WatchReady(ctx context.Context, dyn dynamic.Interface) (*ReadyWatch, error) {
	w := &ReadyWatch{at: map[string]time.Time{}, last: map[string]string{}, wake: make(chan struct{}, 1)}
	f := dynamicinformer.NewFilteredDynamicSharedInformerFactory(dyn, 0, SystemNamespace, nil)
	inf := f.ForResource(Kustomizations).Informer()
	note := func(obj any) {
		if u, ok := obj.(*unstructured.Unstructured); ok {
			w.note(u, time.Now())
		}
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    note,
		UpdateFunc: func(_, obj any) { note(obj) },
	}); err != nil {
		return nil, err
	}
	f.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		return nil, fmt.Errorf("watch Kustomizations: %w", ctx.Err())
	}
	return w, nil
}

func (w *ReadyWatch) note(u *unstructured.Unstructured, now time.Time) {
	observed, _, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
	applied, _, _ := unstructured.NestedString(u.Object, "status", "lastAppliedRevision")
	ready, msg := readyCondition(u)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.last[u.GetName()] = msg
	if ready && observed == u.GetGeneration() && applied != "" {
		key := u.GetName() + " " + applied
		if _, ok := w.at[key]; !ok {
			w.at[key] = now
		}
	}
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func readyCondition(u *unstructured.Unstructured) (bool, string) {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == "Ready" {
			return m["status"] == "True", fmt.Sprintf("Ready=%v %v: %v", m["status"], m["reason"], m["message"])
		}
	}
	return false, "no Ready condition"
}

// Await waits until every named Kustomization reported Ready at revision
// and returns when the last of them did.
func (w *ReadyWatch) Await(ctx context.Context, revision string, timeout time.Duration, names ...string) (time.Time, error) {
	deadline := time.After(timeout)
	for {
		var last time.Time
		var missing []string
		w.mu.Lock()
		for _, n := range names {
			t, ok := w.at[n+" "+revision]
			if !ok {
				missing = append(missing, n+" ("+w.last[n]+")")
			} else if t.After(last) {
				last = t
			}
		}
		w.mu.Unlock()
		if len(missing) == 0 {
			return last, nil
		}
		select {
		case <-w.wake:
		case <-deadline:
			if len(missing) > 3 {
				missing = append(missing[:3], fmt.Sprintf("and %d more", len(missing)-3))
			}
			return time.Time{}, fmt.Errorf("not Ready at %s after %s: %s", revision, timeout, strings.Join(missing, "; "))
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		}
	}
}
