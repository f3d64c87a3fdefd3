package syncer

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/sync/readiness"
)

// inventoryOf is what Apply wrote, as the Version records it.
func inventoryOf(entries []apply.Entry) []version.InventoryEntry {
	out := make([]version.InventoryEntry, 0, len(entries))
	for _, e := range entries {
		out = append(out, version.InventoryEntry{
			Group: e.Group, Version: e.Version, Kind: e.Kind, Namespace: e.Namespace, Name: e.Name, Hash: e.Hash,
		})
	}
	return out
}

// partialInventory is the inventory after an apply that stopped partway:
// live holds prev's entries plus what was written. An entry written or
// created then gets no hash, so the next apply sends it whatever it wants
// it to be: its live state is that of a commit that was never recorded.
func partialInventory(prev []version.InventoryEntry, live []apply.Entry) []version.InventoryEntry {
	key := func(r apply.ObjectRef) apply.ObjectRef { r.Version = ""; return r } // a version change is not a change
	before := make(map[apply.ObjectRef]version.InventoryEntry, len(prev))
	for _, e := range prev {
		before[key(refOf(e))] = e
	}
	out := inventoryOf(live)
	for i, e := range live {
		b, ok := before[key(e.ObjectRef)]
		if !ok || b.Hash != e.Hash {
			out[i].Hash = ""
		}
		out[i].Orphan = ok && b.Orphan
	}
	return out
}

// metadataOf names an object as readiness does.
func metadataOf(r apply.ObjectRef) readiness.Object {
	return readiness.Object{Namespace: r.Namespace, Name: r.Name, GroupKind: schema.GroupKind{Group: r.Group, Kind: r.Kind}}
}

func refOf(e version.InventoryEntry) apply.ObjectRef {
	return apply.ObjectRef{Group: e.Group, Version: e.Version, Kind: e.Kind, Namespace: e.Namespace, Name: e.Name}
}

func entriesOf(inv []version.InventoryEntry) []apply.Entry {
	out := make([]apply.Entry, 0, len(inv))
	for _, e := range inv {
		out = append(out, apply.Entry{ObjectRef: refOf(e), Hash: e.Hash})
	}
	return out
}

// refsOf lists the objects to wait for: the inventory but its orphans.
func refsOf(inv []version.InventoryEntry) []readiness.Object {
	out := make([]readiness.Object, 0, len(inv))
	for _, e := range inv {
		if !e.Orphan {
			out = append(out, metadataOf(refOf(e)))
		}
	}
	return out
}

// toWait are the objects whose rollout an apply leaves to wait for: in a
// settled namespace those it wrote, else every object of the inventory;
// but not those ready as the server answered their apply.
func toWait(res *apply.Result, inventory []version.InventoryEntry, settled bool) []readiness.Object {
	ready := make(map[readiness.Object]bool, len(res.Ready))
	for _, r := range res.Ready {
		ready[metadataOf(r)] = true
	}
	from := refsOf(inventory)
	if settled {
		from = make([]readiness.Object, 0, len(res.Applied))
		for _, r := range res.Applied {
			from = append(from, metadataOf(r))
		}
	}
	wait := make([]readiness.Object, 0, len(from))
	for _, o := range from {
		if !ready[o] {
			wait = append(wait, o)
		}
	}
	return wait
}

func deploymentsOf(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, o := range objs {
		if o.GetKind() == "Deployment" && (o.GroupVersionKind().Group == "apps") {
			out = append(out, o.GetName())
		}
	}
	return out
}
