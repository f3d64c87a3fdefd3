package server

import (
	"testing"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/cache"

	"github.com/syncgate/syncgate/status/version"
)

// Only the Version named version.Name is a namespace's record: another
// object of the kind deleted beside it leaves the record as it is.
func TestAnotherVersionDeletedLeavesTheRecord(t *testing.T) {
	var deleted []string
	w := NewVersionWatcher(nil, nil, []string{"team-a"}, nil)
	w.OnDeleted(func(ns string) { deleted = append(deleted, ns) })
	w.set(&version.Version{ObjectMeta: metav1.ObjectMeta{Name: version.Name, Namespace: "team-a"}})
	require.NotNil(t, w.Get("team-a"))

	other := &unstructured.Unstructured{}
	other.SetName("not-" + version.Name)
	other.SetNamespace("team-a")
	w.gone(other)
	w.gone(cache.DeletedFinalStateUnknown{Key: "team-a/other", Obj: other})
	require.NotNil(t, w.Get("team-a"), "the namespace's Version is still known")
	require.Nil(t, w.Remembered("team-a"), "and not remembered as deleted")
	require.Empty(t, deleted)

	w.gone(&version.Version{ObjectMeta: metav1.ObjectMeta{Name: version.Name, Namespace: "team-a"}})
	require.Nil(t, w.Get("team-a"))
	require.Equal(t, []string{"team-a"}, deleted)
}
