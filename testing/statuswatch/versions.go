package statuswatch

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
)

// DeployedKey is what StartDeployed notes when namespace's Version first
// records sha deployed.
func DeployedKey(namespace, sha string) string { return namespace + " " + sha }

// StartDeployed follows syncgate's Versions in namespace ("" for all),
// noting when each commit is first recorded deployed in each namespace.
func StartDeployed(ctx context.Context, dyn dynamic.Interface, namespace string) (*Watch, error) {
	return Start(ctx, dyn, version.Resource, namespace, deployedKeys)
}

// deployedKeys are the commits a Version's history records deployed.
func deployedKeys(u *unstructured.Unstructured) ([]string, string) {
	history, _, _ := unstructured.NestedSlice(u.Object, "status", "history")
	var keys []string
	state := u.GetNamespace() + ": no history"
	for _, h := range history {
		m, ok := h.(map[string]any)
		if !ok {
			continue
		}
		sha, _ := m["sha"].(string)
		st, _ := m["state"].(string)
		if st == string(status.Deployed) {
			keys = append(keys, DeployedKey(u.GetNamespace(), sha))
		}
		state = fmt.Sprintf("%s: %.7s %s", u.GetNamespace(), sha, st)
	}
	return keys, state
}
