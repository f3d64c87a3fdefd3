package flux

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/syncgate/syncgate/testing/statuswatch"
)

// The resources the benchmark writes.
var (
	gitRepositories = schema.GroupVersionResource{Group: "source.toolkit.fluxcd.io", Version: "v1", Resource: "gitrepositories"}
	kustomizations  = schema.GroupVersionResource{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Resource: "kustomizations"}
)

// createGitRepository creates source name in SystemNamespace. Nothing
// reconciles it: setArtifact plays source-controller's part.
func createGitRepository(ctx context.Context, dyn dynamic.Interface, name string) error {
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
	_, err := dyn.Resource(gitRepositories).Namespace(SystemNamespace).Create(ctx, u, metav1.CreateOptions{})
	return err
}

// setArtifact records a as the source's artifact, Ready, as
// source-controller does once it has packed a revision.
func setArtifact(ctx context.Context, dyn dynamic.Interface, name string, a artifact) error {
	res := dyn.Resource(gitRepositories).Namespace(SystemNamespace)
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

// kustomizationSpec is what the benchmark varies in a Kustomization.
type kustomizationSpec struct {
	Name, Source, Path, TargetNamespace string
}

// createKustomization creates a Kustomization in SystemNamespace that
// applies Path of Source into TargetNamespace with pruning, and waits for
// every object to be ready (spec.wait) before it reports Ready, as
// syncgate waits for the rollout before it reports deployed.
func createKustomization(ctx context.Context, dyn dynamic.Interface, k kustomizationSpec) error {
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
	_, err := dyn.Resource(kustomizations).Namespace(SystemNamespace).Create(ctx, u, metav1.CreateOptions{})
	return err
}

// forget deletes the named objects of resource without the controller's
// finalizers, so a stopped controller does not hold them up and nothing
// they applied is pruned: the benchmark deletes namespaces itself.
func forget(ctx context.Context, dyn dynamic.Interface, resource schema.GroupVersionResource, names ...string) error {
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

// ReadyKey is what WatchReady notes when Kustomization name first
// reports Ready at revision.
func ReadyKey(name, revision string) string { return name + " " + revision }

// WatchReady follows the Kustomizations in SystemNamespace until ctx ends,
// noting when each first reported Ready at each revision: Ready True,
// lastAppliedRevision that revision, its generation observed.
func WatchReady(ctx context.Context, dyn dynamic.Interface) (*statuswatch.Watch, error) {
	return statuswatch.Start(ctx, dyn, kustomizations, SystemNamespace, readyKeys)
}

func readyKeys(u *unstructured.Unstructured) ([]string, string) {
	observed, _, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
	applied, _, _ := unstructured.NestedString(u.Object, "status", "lastAppliedRevision")
	state := u.GetName() + ": no Ready condition"
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok || m["type"] != "Ready" {
			continue
		}
		state = fmt.Sprintf("%s: Ready=%v %v: %v", u.GetName(), m["status"], m["reason"], m["message"])
		if m["status"] == "True" && observed == u.GetGeneration() && applied != "" {
			return []string{ReadyKey(u.GetName(), applied)}, state
		}
	}
	return nil, state
}
