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

// What was deleted is remembered only while it may come back: while two
// rounds overlap, and until the live round has told of its namespace at
// a later resourceVersion. The live round alone, creating and deleting,
// leaves nothing behind.
func TestRecordForgetsDeletionsOnceBehind(t *testing.T) {
	r := newRecord(cache.ResourceEventHandlerFuncs{})
	old := r.from(r.renew())
	old.OnAdd(obj("a", 10), true)
	old.OnAdd(obj("b", 11), true)
	n := r.renew()
	next := r.from(n)
	old.OnDelete(obj("a", 13)) // after the new list, at 12
	next.OnAdd(obj("a", 10), true)
	next.OnAdd(obj("b", 11), true)
	r.sweep(n, func(string) uint64 { return 12 })
	require.Len(t, r.gone, 1, "a's deletion, which the new watch has not told yet")
	next.OnDelete(obj("a", 13))
	next.OnAdd(obj("c", 14), false)
	require.Empty(t, r.gone, "the new watch is past it")

	for i := range 100 {
		next.OnAdd(obj(fmt.Sprint("new-", i), 20+2*i), false)
		next.OnDelete(obj(fmt.Sprint("new-", i), 21+2*i))
	}
	require.Empty(t, r.gone, "deletions told by the live round alone")
}

// Where resourceVersions are not numbers, nothing is compared: every
// event is passed on, and what the new round's list did not hold is told
// deleted, even when the old round told of it after that list; the new
// watch tells of it again. Nothing told is kept that the cluster lost.
func TestRecordWithoutNumbers(t *testing.T) {
	h := &heard{}
	r := newRecord(h)
	named := func(name, rv string) *unstructured.Unstructured {
		u := obj(name, 0)
		u.SetResourceVersion(rv)
		return u
	}
	old := r.from(r.renew())
	old.OnAdd(named("kept", "k1"), true)
	old.OnAdd(named("gone", "g1"), true)
	n := r.renew()
	next := r.from(n)
	next.OnAdd(named("kept", "k1"), true)
	old.OnAdd(named("late", "l1"), false)
	r.sweep(n, func(string) uint64 { return 0 })
	r.relisted("", 0, map[string]bool{})
	next.OnAdd(named("late", "l1"), false)
	next.OnDelete(named("kept", "k2"))

	told := h.all()
	require.Len(t, told, 8)
	require.Equal(t, []string{
		"add kept@k1", "add gone@g1",
		"update kept@k1", // told again: not known to be no newer
		"add late@l1",
	}, told[:4])
	require.ElementsMatch(t, []string{"delete gone@g1", "delete late@l1"}, told[4:6], "not in the new list")
	require.Equal(t, []string{"add late@l1", "delete kept@k2"}, told[6:], "the new watch tells of late again")
}
