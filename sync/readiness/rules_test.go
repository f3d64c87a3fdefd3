package readiness_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/sync/clusterwide"
	"github.com/syncgate/syncgate/sync/healthrule"
	"github.com/syncgate/syncgate/sync/readiness"
	"github.com/syncgate/syncgate/testing/cluster"
)

// A Certificate-like kind whose Ready condition kstatus would read its own
// way; the rule decides instead.
const certCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: certificates.health.syncgate.dev}
spec:
  group: health.syncgate.dev
  scope: Namespaced
  names: {plural: certificates, singular: certificate, kind: Certificate}
  versions:
    - name: v1
      served: true
      storage: true
      subresources: {status: {}}
      schema:
        openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
`

const certRule = `
- apiVersion: health.syncgate.dev/v1
  kind: Certificate
  current: status.conditions.exists(c, c.type == 'Issued' && c.status == 'True')
  failed: status.conditions.exists(c, c.type == 'Issued' && c.status == 'False' && c.reason == 'Denied')
`

var certGVR = schema.GroupVersionResource{Group: "health.syncgate.dev", Version: "v1", Resource: "certificates"}

func TestHealthRulesJudgeCustomResourcesOnWatchEvents(t *testing.T) {
	c := cluster.Shared(t)
	dyn, err := dynamic.NewForConfig(c.RESTConfig())
	require.NoError(t, err)
	crds, err := apply.New(c.RESTConfig(), apply.Options{AllowClusterScoped: true})
	require.NoError(t, err)
	_, err = crds.Apply(context.Background(), "", []*unstructured.Unstructured{decode(t, certCRD)}, nil)
	require.NoError(t, err)
	rules, err := healthrule.Parse(certRule)
	require.NoError(t, err)

	for _, tc := range []struct {
		name, status, reason string
		failed               bool
	}{
		{"issued", "True", "Issued", false},
		{"denied", "False", "Denied", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := cluster.Namespace(t, c)
			applier, err := apply.New(c.RESTConfig(), apply.Options{})
			require.NoError(t, err)
			clients, err := apply.NewClients(c.RESTConfig(), "")
			require.NoError(t, err)
			own, err := dynamic.NewForConfig(c.RESTConfig())
			require.NoError(t, err)
			checker, err := readiness.New(readiness.Options{Clients: clients, Own: own, Grants: clusterwide.NewGrants(own, 0, nil), Rules: rules})
			require.NoError(t, err)
			var res *apply.Result
			require.Eventually(t, func() bool { // the new kind reaches discovery
				res, err = applier.Apply(context.Background(), ns, []*unstructured.Unstructured{decode(t,
					"apiVersion: health.syncgate.dev/v1\nkind: Certificate\nmetadata: {name: web, namespace: "+ns+"}\nspec: {dnsNames: [web.example.dev]}\n")}, nil)
				return err == nil
			}, 30*time.Second, 200*time.Millisecond)
			e := res.Inventory[0]
			refs := []readiness.Object{meta(e.Group, e.Kind, e.Namespace, e.Name)}

			progress := make(chan readiness.Progress, 16)
			done := make(chan error, 1)
			go func() {
				done <- checker.Wait(context.Background(), ns, refs, time.Now().Add(time.Minute), func(p readiness.Progress) { progress <- p })
			}()
			// No status yet: the rule cannot be evaluated, which is
			// reported as the reason it is pending.
			first := <-progress
			require.Equal(t, 0, first.Ready)
			require.Contains(t, first.Pending[0], "health rule")

			cert, err := dyn.Resource(certGVR).Namespace(ns).Get(context.Background(), "web", metav1.GetOptions{})
			require.NoError(t, err)
			require.NoError(t, unstructured.SetNestedSlice(cert.Object, []any{map[string]any{"type": "Issued", "status": tc.status, "reason": tc.reason}}, "status", "conditions"))
			_, err = dyn.Resource(certGVR).Namespace(ns).UpdateStatus(context.Background(), cert, metav1.UpdateOptions{})
			require.NoError(t, err)

			select {
			case err := <-done:
				if !tc.failed {
					require.NoError(t, err)
					return
				}
				var f *readiness.FailedError
				require.ErrorAs(t, err, &f)
				require.Equal(t, "web", f.Object.Name)
				require.Contains(t, f.Reason, "Denied")
			case <-time.After(30 * time.Second):
				t.Fatal("the status change was not judged on its watch event")
			}
		})
	}
}
