package apply_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// An object given the key it had at the namespace's last apply is taken as
// prepared then, unless its inventory entry lost that hash: the key is
// what says it is unchanged (sync/render gives the same key to the same
// object only), so a caller giving an old key to a changed object sees
// the change ignored, which is how this test tells the memo is used.
func TestKeyedObjectsArePreparedOnce(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	ns := e.ns
	keys := []string{"blob-a#1.0", "blob-b#1.0"}
	res, err := e.applier.ApplyKeyed(ctx, ns, objects(t, configMap(ns, "a", "1"), configMap(ns, "b", "1")), keys, nil)
	require.NoError(t, err)
	require.Len(t, res.Applied, 2)

	changed := objects(t, configMap(ns, "a", "1"), configMap(ns, "b", "2"))
	e.counter.Reset()
	again, err := e.applier.ApplyKeyed(ctx, ns, changed, keys, res.Inventory)
	require.NoError(t, err)
	require.Len(t, again.Unchanged, 2, "both taken as prepared before")
	require.Equal(t, res.Inventory, again.Inventory)
	require.Zero(t, e.counter.Counts().Mutating)

	lost := append(res.Inventory[:1:1], res.Inventory[1])
	lost[1].Hash = "" // as after an apply that failed while writing it
	sent, err := e.applier.ApplyKeyed(ctx, ns, changed, keys, lost)
	require.NoError(t, err)
	require.Len(t, sent.Applied, 1)
	cm, err := e.kube.CoreV1().ConfigMaps(ns).Get(ctx, "b", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, "2", cm.Data["v"])

	plain, err := e.applier.Apply(ctx, ns, objects(t, configMap(ns, "a", "3"), configMap(ns, "b", "2")), sent.Inventory)
	require.NoError(t, err)
	require.Len(t, plain.Applied, 1, "without keys every object is hashed")
}
