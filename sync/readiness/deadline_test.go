package readiness_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/syncgate/syncgate/sync/readiness"
)

// A wait begun past its deadline (a rollout taken over after its health
// timeout) still looks once: objects ready now are ready, and the others
// time out at once, named.
func TestAPastDeadlineJudgesOnce(t *testing.T) {
	e := setup(t, time.Minute)
	ctx := context.Background()
	past := time.Now().Add(-time.Hour)
	cm := decode(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web, namespace: "+e.ns+"}\ndata: {a: b}\n")
	res, err := e.applier.Apply(ctx, e.ns, []*unstructured.Unstructured{cm}, nil)
	require.NoError(t, err)
	refs := []readiness.Object{meta("", "ConfigMap", e.ns, res.Inventory[0].Name)}
	require.NoError(t, e.checker.Wait(ctx, e.ns, refs, past, nil))

	start := time.Now()
	var seen []readiness.Progress
	err = e.checker.Wait(ctx, e.ns, append(refs, meta("", "ConfigMap", e.ns, "missing")), past, func(p readiness.Progress) { seen = append(seen, p) })
	require.ErrorIs(t, err, readiness.ErrTimeout)
	require.ErrorContains(t, err, "health timeout, not ready: ConfigMap missing: not found")
	require.Less(t, time.Since(start), 20*time.Second, "judged once, not waited for")
	require.Len(t, seen, 1, "one look")
	require.Equal(t, 1, seen[0].Ready)
}
