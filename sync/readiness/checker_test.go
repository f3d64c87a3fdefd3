package readiness_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/sync/readiness"
	"github.com/syncgate/syncgate/testing/cluster"
)

func TestMain(m *testing.M) { cluster.Main(m, cluster.Options{}) }

func deployment(t *testing.T, ns, image string, annotations string) *unstructured.Unstructured {
	t.Helper()
	doc := fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: %s}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}, annotations: {%s}}
    spec:
      containers: [{name: app, image: %q}]
`, ns, annotations, image)
	u := &unstructured.Unstructured{}
	require.NoError(t, yaml.Unmarshal([]byte(doc), &u.Object))
	return u
}

type env struct {
	ns      string
	applier *apply.Applier
	checker *readiness.Checker
	inv     []apply.Entry
}

func setup(t *testing.T, timeout time.Duration) *env {
	t.Helper()
	c := cluster.Shared(t)
	a, err := apply.New(c.RESTConfig(), apply.Options{})
	require.NoError(t, err)
	ch, err := readiness.New(c.RESTConfig(), readiness.Options{Timeout: timeout})
	require.NoError(t, err)
	return &env{ns: cluster.Namespace(t, c), applier: a, checker: ch}
}

func (e *env) rollout(t *testing.T, obj *unstructured.Unstructured) ([]readiness.Progress, time.Duration, error) {
	t.Helper()
	res, err := e.applier.Apply(context.Background(), e.ns, []*unstructured.Unstructured{obj}, e.inv)
	require.NoError(t, err)
	e.inv = res.Inventory
	refs := make([]apply.ObjectRef, 0, len(res.Inventory))
	for _, en := range res.Inventory {
		refs = append(refs, en.ObjectRef)
	}
	var seen []readiness.Progress
	start := time.Now()
	err = e.checker.Wait(context.Background(), refs, func(p readiness.Progress) { seen = append(seen, p) })
	return seen, time.Since(start), err
}

func TestRolloutsSucceedAndFail(t *testing.T) {
	cases := []struct {
		name       string
		annotation string
		reason     string
	}{
		{"crashloop", `syncgate.dev/test-fail: crashloop`, "CrashLoopBackOff"},
		{"imagepull", `syncgate.dev/test-fail: imagepull`, "ImagePullBackOff"},
		{"configerror", `syncgate.dev/test-fail: configerror`, "CreateContainerConfigError"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := setup(t, 2*time.Minute)
			_, took, err := e.rollout(t, deployment(t, e.ns, "registry.example.com/web:1", tc.annotation))
			var failed *readiness.FailedError
			require.ErrorAs(t, err, &failed)
			require.Contains(t, failed.Reason, tc.reason)
			require.Equal(t, "web", failed.Object.Name)
			require.Less(t, took, 30*time.Second, "fails fast, long before the health timeout")
		})
	}
	t.Run("good then bad then fixed", func(t *testing.T) {
		e := setup(t, 2*time.Minute)
		seen, _, err := e.rollout(t, deployment(t, e.ns, "registry.example.com/web:1", ""))
		require.NoError(t, err)
		require.Equal(t, readiness.Progress{Ready: 1, Total: 1}, seen[len(seen)-1])

		_, _, err = e.rollout(t, deployment(t, e.ns, "registry.example.com/web:2", `syncgate.dev/test-fail: crashloop`))
		require.ErrorContains(t, err, "CrashLoopBackOff")

		// The fix rolls out although pods of the broken revision still crash.
		_, _, err = e.rollout(t, deployment(t, e.ns, "registry.example.com/web:3", ""))
		require.NoError(t, err)
	})
	t.Run("slow readiness is waited for", func(t *testing.T) {
		e := setup(t, 2*time.Minute)
		seen, took, err := e.rollout(t, deployment(t, e.ns, "registry.example.com/web:1", `syncgate.dev/test-ready-after: "3s"`))
		require.NoError(t, err)
		require.GreaterOrEqual(t, took, 2*time.Second)
		require.Equal(t, 0, seen[0].Ready, "first seen not ready")
	})
	t.Run("health timeout", func(t *testing.T) {
		e := setup(t, 2*time.Second)
		_, _, err := e.rollout(t, deployment(t, e.ns, "registry.example.com/web:1", `syncgate.dev/test-ready-after: "1h"`))
		require.ErrorIs(t, err, readiness.ErrTimeout)
		require.ErrorContains(t, err, "Deployment web")
	})
}
