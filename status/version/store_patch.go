package version

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// seenStatuses holds, per namespace, the status the API server last
// returned to the Store (its JSON) and the resourceVersion it had: a write
// starting from a Version at that resourceVersion patches it (patch.go).
type seenStatuses struct {
	mu sync.Mutex
	m  map[string]seenStatus
}

type seenStatus struct {
	resourceVersion string
	status          []byte
}

func (s *seenStatuses) keep(u *unstructured.Unstructured) error {
	b, err := json.Marshal(u.Object["status"])
	if err != nil {
		return fmt.Errorf("keep status of Version %s/%s: %w", u.GetNamespace(), u.GetName(), err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]seenStatus{}
	}
	s.m[u.GetNamespace()] = seenStatus{resourceVersion: u.GetResourceVersion(), status: b}
	return nil
}

// at returns the status seen in namespace at resourceVersion.
func (s *seenStatuses) at(namespace, resourceVersion string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen, ok := s.m[namespace]
	if !ok || resourceVersion == "" || seen.resourceVersion != resourceVersion {
		return nil, false
	}
	return seen.status, true
}

// read decodes what the API server returned and keeps its status.
func (s *Store) read(u *unstructured.Unstructured) (*Version, error) {
	v, err := FromUnstructured(u)
	if err != nil {
		return nil, err
	}
	if u.GetName() == Name {
		if err := s.seen.keep(u); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// writeStatus writes v's status through the status subresource, on the
// condition that the Version is still at v's resourceVersion (a conflict
// otherwise). When the Store saw the status at that resourceVersion, only
// what changed is sent, as a JSON patch, and nothing at all when nothing
// did; otherwise the whole status is.
func (s *Store) writeStatus(ctx context.Context, v *Version) (*Version, error) {
	seen, ok := s.seen.at(v.Namespace, v.ResourceVersion)
	if !ok {
		return s.update(ctx, v, "status")
	}
	u, err := ToUnstructured(v)
	if err != nil {
		return nil, err
	}
	var from any
	if err := json.Unmarshal(seen, &from); err != nil {
		return nil, fmt.Errorf("status of Version %s/%s as seen: %w", v.Namespace, Name, err)
	}
	to := u.Object["status"]
	var ops []patchOp
	if from == nil {
		if to != nil {
			b, err := json.Marshal(to)
			if err != nil {
				return nil, err
			}
			ops = []patchOp{{Op: "add", Path: "/status", Value: b}}
		}
	} else if ops, err = diffJSON("/status", from, to, nil); err != nil {
		return nil, fmt.Errorf("patch status of Version %s/%s: %w", v.Namespace, Name, err)
	}
	if len(ops) == 0 {
		return v, nil
	}
	rv, err := json.Marshal(v.ResourceVersion)
	if err != nil {
		return nil, err
	}
	// The patched object carrying the resourceVersion written from makes
	// the write conditional on it, as an update is.
	ops = append([]patchOp{{Op: "replace", Path: "/metadata/resourceVersion", Value: rv}}, ops...)
	body, err := json.Marshal(ops)
	if err != nil {
		return nil, err
	}
	patched, err := s.client(v.Namespace).Patch(ctx, Name, types.JSONPatchType, body, metav1.PatchOptions{FieldManager: s.opts.FieldManager}, "status")
	if err != nil {
		return nil, err
	}
	return s.read(patched)
}
