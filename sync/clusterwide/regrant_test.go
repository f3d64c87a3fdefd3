package clusterwide_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/syncgate/syncgate/sync/clusterwide"
	"github.com/syncgate/syncgate/testing/cluster"
)

// A watch per namespace because syncgate was refused the kind in every
// namespace, at start or later (its ClusterRole taken back), goes to
// every namespace once the ClusterRole is granted again, no restart,
// while objects are created, updated and deleted: the handler is told
// each object once, each change in order, and a deletion only of what
// was deleted. The refusal is asked again at its own pace, not in a loop.
func TestBackToEveryNamespaceOnceGranted(t *testing.T) {
	const every = 100 * time.Millisecond
	defer func(b wait.Backoff) { *clusterwide.RefusedBackoff = b }(*clusterwide.RefusedBackoff)
	*clusterwide.RefusedBackoff = wait.Backoff{Duration: every}
	for _, tc := range []struct {
		name      string
		takenBack bool // granted at start, then taken back
	}{{"refused at start", false}, {"taken back, then granted again", true}} {
		t.Run(tc.name, func(t *testing.T) {
			c := cluster.Shared(t)
			kube, err := kubernetes.NewForConfig(c.RESTConfig())
			require.NoError(t, err)
			a, b := cluster.Namespace(t, c), cluster.Namespace(t, c)
			cfg := reader(t, c, a, b)
			user := cfg.Impersonate.UserName
			takeBack := func() error { return nil }
			if tc.takenBack {
				takeBack = bindEverywhere(t, kube, user)
			}
			v := &valve{}
			cfg.Wrap(v.wrap)
			q := &unanswered{} // counts the questions, fails none
			started := time.Now()
			h, streams, seen := startChurned(t, c, cfg, q, every, a, b)
			if tc.takenBack {
				require.Eventually(t, func() bool { return streams.count("/api/v1/configmaps") == 1 }, 30*time.Second, 20*time.Millisecond, "watched in every namespace")
				require.NoError(t, takeBack())
				awaitMay(t, kube, user, false)
				v.cut()
				require.Eventually(t, func() bool {
					return streams.count("/api/v1/configmaps") == 0 && streams.count("/api/v1/namespaces/") == 2
				}, 30*time.Second, 20*time.Millisecond, "watched per namespace once refused")
				started = time.Now()
				q.asked.Store(0)
			} else {
				require.Empty(t, seen.Requests("/api/v1/configmaps"), "watched per namespace first")
			}

			// Refused, the question is asked again, every `every`.
			require.Eventually(t, func() bool { return q.asked.Load() >= 6 }, 30*time.Second, 10*time.Millisecond, "refusal asked again")
			asks := q.asked.Load() / 2 // a question is a review per verb
			require.LessOrEqual(t, asks, 2+int64(time.Since(started)/every), "asked again in a loop")
			require.Equal(t, 2, streams.count("/api/v1/namespaces/"), "still per namespace")

			bindEverywhere(t, kube, user)
			names := churn(t, kube, a, b, func() bool {
				return streams.count("/api/v1/namespaces/") == 0 && streams.count("/api/v1/configmaps") == 1
			})
			h.await(t, names...)
			require.Equal(t, 0, streams.count("/api/v1/namespaces/"), "the watches per namespace ended")
			require.Equal(t, 1, streams.count("/api/v1/configmaps"), "one watch in every namespace")
			requireHeld(t, kube, h, a, b)
		})
	}
}

// bindEverywhere binds ClusterRole view to user in every namespace and
// waits until the authorizer lets user list and watch ConfigMaps there;
// it returns what takes the binding back, as the test's end does.
func bindEverywhere(t *testing.T, kube kubernetes.Interface, user string) func() error {
	t.Helper()
	ctx := context.Background()
	binding, err := kube.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "reader-everywhere-"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	takeBack := func() error {
		return kube.RbacV1().ClusterRoleBindings().Delete(ctx, binding.Name, metav1.DeleteOptions{})
	}
	t.Cleanup(func() { _ = takeBack() })
	for _, verb := range []string{"list", "watch"} {
		require.NoError(t, cluster.AwaitAllowed(ctx, kube, authorizationv1.SubjectAccessReviewSpec{User: user,
			ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: verb, Resource: "configmaps"}}))
	}
	return takeBack
}
