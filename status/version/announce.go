package version

import (
	"context"
	"encoding/json"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// HeadAnnotation on a Version names the newest branch head a replica
// fetched. Every replica fetches (webhooks and /wait reach any of them);
// the leader watches Versions and fetches at once when a replica announces
// a head it has not taken up.
const HeadAnnotation = "syncgate.dev/fetched-head"

// Announce sets HeadAnnotation on the namespace's Version to head. It
// patches metadata only, so it never conflicts with status writes.
func (s *Store) Announce(ctx context.Context, namespace, head string) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{HeadAnnotation: head}}})
	if err != nil {
		return err
	}
	if _, err := s.client(namespace).Patch(ctx, Name, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: s.opts.FieldManager}); err != nil {
		return fmt.Errorf("announce head on Version %s/%s: %w", namespace, Name, err)
	}
	return nil
}
