package clusterwide

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/cache"
)

// Two rounds telling of the same objects, the new one behind the old for
// a while, tell the handler one story: each change once and in order, no
// deletion undone, and after the sweep the deletion of what the new
// round's list did not hold, unless told after that list.
func TestRecordTellsTwoRoundsAsOne(t *testing.T) {
	var told []string
	r := newRecord(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { told = append(told, "add "+describe(o)) },
		UpdateFunc: func(_, o any) { told = append(told, "update "+describe(o)) },
		DeleteFunc: func(o any) { told = append(told, "delete "+describe(o)) },
	})
	old := r.from(r.renew())
	old.OnAdd(obj("kept", 10), true)
	old.OnAdd(obj("gone", 5), true)
	old.OnAdd(obj("deleted", 6), true)
	n := r.renew()
	next := r.from(n)
	old.OnAdd(obj("late", 12), false)
	old.OnDelete(obj("deleted", 13))
	next.OnAdd(obj("kept", 10), true)   // listed at 11: told already
	next.OnAdd(obj("deleted", 6), true) // deleted since
	old.OnUpdate(nil, obj("kept", 14))
	next.OnUpdate(nil, obj("kept", 14)) // caught up
	r.sweep(n, func(string) uint64 { return 11 })
	next.OnAdd(obj("late", 12), false)
	next.OnDelete(cache.DeletedFinalStateUnknown{Key: "ns/kept", Obj: obj("kept", 14)})

	require.Equal(t, []string{
		"add kept@10", "add gone@5", "add deleted@6",
		"add late@12", "delete deleted@13", "update kept@14",
		"delete gone@5", // not in the list at 11; late, told at 12, waits for the new watch
		"delete kept@14",
	}, told)
}

func obj(name string, rv int) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetNamespace("ns")
	u.SetName(name)
	u.SetResourceVersion(fmt.Sprint(rv))
	return u
}

func describe(o any) string {
	if d, ok := o.(cache.DeletedFinalStateUnknown); ok {
		o = d.Obj
	}
	u := o.(*unstructured.Unstructured)
	return u.GetName() + "@" + u.GetResourceVersion()
}
