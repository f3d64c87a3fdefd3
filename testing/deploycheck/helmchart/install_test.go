package helmchart

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/syncgate/syncgate/testing/cluster"
)

// Where the chart is installed on the control plane: another release
// name, namespace and apply account than the defaults, so that a name the
// templates fail to follow shows.
const (
	releaseName = "gate"
	releaseNS   = "gitops"
	applySA     = "deployer"
	teamA       = "team-a"
	teamB       = "team-b"
)

// installValues installs syncgate for team-a and team-b; settings are
// what the sync test's syncgate reads.
func installValues(t *testing.T, repoURL string) map[string]any {
	return values(t, fmt.Sprintf(`
applyServiceAccount: %s
managedNamespaces: [{name: %s}, {name: %s}]
settings:
  CONFIG_REPO: %s
  CLUSTER_NAME: local
  GIT_SYNC_INTERVAL: 2s
  HEALTH_TIMEOUT: 60s
  LOG_FORMAT: text
  # Render lets team-a's objects name team-b: RBAC alone must stop them.
  ALLOW_NAMESPACES: %s
`, applySA, teamA, teamB, repoURL, teamB))
}

// access is one request a ServiceAccount may or may not make.
type access struct {
	verb, group, resource, namespace, name string
	allowed                                bool
}

func (a access) String() string {
	return fmt.Sprintf("%s %s/%s %s in %q", a.verb, a.group, a.resource, a.name, a.namespace)
}

// rbacProof is what docs/isolation.md promises: syncgate's own account
// may act as each managed namespace's account and keep the Versions, its
// Lease and its keys, and list and watch workload kinds, nothing else; each namespace's account may do what
// the namespace's admins may, in that namespace alone, Versions excepted.
func rbacProof(in installation) []account {
	teamA, teamB, releaseNS, applySA := in.a, in.b, in.namespace, in.applySA
	return []account{
		{in.namespace, in.name, []access{
			{"impersonate", "", "serviceaccounts", teamA, applySA, true},
			{"impersonate", "", "serviceaccounts", teamB, applySA, true},
			{"patch", "syncgate.dev", "versions", teamA, "", true},
			{"update", "syncgate.dev", "versions/status", teamB, "", true},
			{"create", "", "events", teamA, "", true},
			{"create", "coordination.k8s.io", "leases", releaseNS, "", true},
			{"update", "coordination.k8s.io", "leases", releaseNS, "syncgate-leader", true},
			{"get", "", "secrets", releaseNS, "syncgate-sops", true},
			{"update", "", "configmaps", releaseNS, "syncgate-previews", true},
			// Rollouts' watches, one per kind for every namespace: reads of
			// workload kinds, never Secrets or ConfigMaps.
			{"watch", "apps", "deployments", "", "", true},
			{"list", "", "pods", "", "", true},
			{"watch", "apps", "replicasets", "", "", true},
			{"list", "", "secrets", "", "", false},
			{"watch", "", "configmaps", "", "", false},
			{"get", "apps", "deployments", teamA, "", false},
			{"patch", "apps", "deployments", teamA, "", false},

			{"impersonate", "", "serviceaccounts", teamA, "default", false},
			{"impersonate", "", "serviceaccounts", "default", applySA, false},
			{"impersonate", "", "users", "", "admin", false},
			{"create", "", "configmaps", teamA, "", false},
			{"get", "", "secrets", teamA, "", false},
			{"get", "", "secrets", releaseNS, "syncgate-credentials", false},
			{"list", "", "secrets", releaseNS, "", false},
			{"update", "coordination.k8s.io", "leases", releaseNS, "another", false},
			{"patch", "syncgate.dev", "versions", "default", "", false},
			{"patch", "syncgate.dev", "versions", releaseNS, "", false},
			{"create", "", "namespaces", "", "", false},
			{"create", "rbac.authorization.k8s.io", "clusterroles", "", "", false},
			{"list", "", "secrets", "kube-system", "", false},
		}},
		{teamA, applySA, []access{
			{"create", "apps", "deployments", teamA, "", true},
			{"delete", "", "configmaps", teamA, "", true},
			{"get", "", "secrets", teamA, "", true},
			{"create", "rbac.authorization.k8s.io", "rolebindings", teamA, "", true},

			{"create", "", "configmaps", teamB, "", false},
			{"get", "", "secrets", releaseNS, "", false},
			{"impersonate", "", "serviceaccounts", teamB, applySA, false},
			{"create", "syncgate.dev", "versions", teamA, "", false},
			{"update", "syncgate.dev", "versions/status", teamA, "", false},
			{"update", "", "namespaces", "", teamA, false},
			{"create", "", "resourcequotas", teamA, "", false},
			{"create", "rbac.authorization.k8s.io", "clusterroles", "", "", false},
		}},
	}
}

// installation is where syncgate was installed: its namespace and
// ServiceAccount, the account it applies as, and two managed namespaces.
type installation struct {
	namespace, name, applySA, a, b string
}

// account is a ServiceAccount and what it may and may not do.
type account struct {
	namespace, name string
	accesses        []access
}

// checkRBAC asks the API server's authorizer about every access, as the
// account's token would be judged (its groups included). The authorizer
// reads RBAC objects through its informers, so bindings just applied are
// seen a moment later: the grants are asked until they hold, then the
// refusals, once the grants show the authorizer has caught up.
func checkRBAC(t *testing.T, c *cluster.Cluster, in installation) {
	kube, err := kubernetes.NewForConfig(c.RESTConfig())
	require.NoError(t, err)
	ask := func(user, namespace string, a access) (*authorizationv1.SubjectAccessReview, error) {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User:   user,
			Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"},
			ResourceAttributes: &authorizationv1.ResourceAttributes{
				Verb: a.verb, Group: a.group, Resource: a.resource, Namespace: a.namespace, Name: a.name,
			},
		}}
		if r, sub, ok := strings.Cut(a.resource, "/"); ok {
			sar.Spec.ResourceAttributes.Resource, sar.Spec.ResourceAttributes.Subresource = r, sub
		}
		return kube.AuthorizationV1().SubjectAccessReviews().Create(context.Background(), sar, metav1.CreateOptions{})
	}
	for _, allowed := range []bool{true, false} {
		for _, acc := range rbacProof(in) {
			user := "system:serviceaccount:" + acc.namespace + ":" + acc.name
			for _, a := range acc.accesses {
				if a.allowed != allowed {
					continue
				}
				if allowed {
					require.EventuallyWithT(t, func(c *assert.CollectT) {
						res, err := ask(user, acc.namespace, a)
						if assert.NoError(c, err) {
							assert.True(c, res.Status.Allowed, "%s: %s (%s)", user, a, res.Status.Reason)
						}
					}, 30*time.Second, 100*time.Millisecond)
					continue
				}
				res, err := ask(user, acc.namespace, a)
				require.NoError(t, err)
				require.False(t, res.Status.Allowed, "%s: %s (%s)", user, a, res.Status.Reason)
			}
		}
	}
}
