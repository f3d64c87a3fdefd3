package apply

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// FieldChange is one field a commit would set: Op is "add", "remove" or
// "change"; From and To are the values as compact JSON, "" when absent.
// Hidden marks a Secret's data: its values are never shown, only that the
// key is added, removed or changed.
type FieldChange struct {
	Path   string `json:"path"`
	Op     string `json:"op"`
	From   string `json:"from,omitempty"`
	To     string `json:"to,omitempty"`
	Hidden bool   `json:"hidden,omitempty"`
}

func (f FieldChange) String() string {
	switch {
	case f.Hidden:
		return f.Path + ": " + f.Op + "d (value hidden)"
	case f.Op == "add":
		return f.Path + ": " + f.To
	case f.Op == "remove":
		return f.Path + ": " + f.From + " → (removed)"
	}
	return f.Path + ": " + f.From + " → " + f.To
}

// maxValue bounds a value shown in a change.
const maxValue = 240

// volatile are fields the server keeps for itself: never a change.
var volatile = []string{"managedFields", "resourceVersion", "generation", "uid", "creationTimestamp", "selfLink"}

// withoutVolatile is o without status and the server's metadata.
func withoutVolatile(o map[string]any) map[string]any {
	c := make(map[string]any, len(o))
	for k, v := range o {
		if k != "status" {
			c[k] = v
		}
	}
	if md, ok := o["metadata"].(map[string]any); ok {
		m := make(map[string]any, len(md))
		for k, v := range md {
			m[k] = v
		}
		for _, k := range volatile {
			delete(m, k)
		}
		if ann, ok := m["annotations"].(map[string]any); ok {
			a := make(map[string]any, len(ann))
			for k, v := range ann {
				if k != "kubectl.kubernetes.io/last-applied-configuration" {
					a[k] = v
				}
			}
			m["annotations"] = a
		}
		c["metadata"] = m
	}
	return c
}

// diffObjects lists the fields syncgate sets that differ between the
// live object and what the dry run says it would become: fields of want
// (the desired object) and fields owned lists (syncgate's managed fields
// on the live object, which the apply would remove when want drops
// them). What other managers and controllers change meanwhile is not
// the commit's doing, and is left out.
func diffObjects(ref ObjectRef, live, after, want map[string]any, owned map[string]any) []FieldChange {
	w := &differ{secret: isSecret(ref), scoped: true}
	w.walk("", withoutVolatile(live), withoutVolatile(after), want, owned)
	return w.out
}

// objectFields lists every field of a new object as added.
func objectFields(ref ObjectRef, obj map[string]any) []FieldChange {
	w := &differ{secret: isSecret(ref)}
	w.walk("", map[string]any{}, withoutVolatile(obj), nil, nil)
	return w.out
}

func isSecret(ref ObjectRef) bool { return ref.Group == "" && ref.Kind == "Secret" }

type differ struct {
	secret bool
	scoped bool
	out    []FieldChange
}

// whole marks a managed field owned with everything under it.
var whole = map[string]any{"*": true}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// sub is a managed-fields node's child: "f:<key>" for a field; an empty
// node owns all below it.
func sub(owned any, key string) any {
	m, ok := owned.(map[string]any)
	if !ok {
		return nil
	}
	if len(m) == 0 || m["*"] == true {
		return whole
	}
	return m[key]
}

// item is the managed-fields node of a keyed list item: "k:{...}" whose
// key field has the item's value.
func item(owned any, key string, val any) any {
	m, ok := owned.(map[string]any)
	if !ok {
		return nil
	}
	if len(m) == 0 || m["*"] == true {
		return whole
	}
	for k, v := range m {
		raw, ok := strings.CutPrefix(k, "k:")
		if !ok {
			continue
		}
		var id map[string]any
		if json.Unmarshal([]byte(raw), &id) == nil && fmt.Sprint(id[key]) == fmt.Sprint(val) {
			return v
		}
	}
	return nil
}

func (w *differ) walk(path string, before, after, want, owned any) {
	if w.scoped && want == nil && owned == nil {
		return // not a field syncgate sets
	}
	bm, bok := before.(map[string]any)
	am, aok := after.(map[string]any)
	if (bok || before == nil) && (aok || after == nil) && (bok || aok) {
		keys := make([]string, 0, len(bm)+len(am))
		for k := range bm {
			keys = append(keys, k)
		}
		for k := range am {
			if _, ok := bm[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		wm, _ := want.(map[string]any)
		for _, k := range keys {
			w.walk(join(path, k), bm[k], am[k], wm[k], sub(owned, "f:"+k))
		}
		return
	}
	bl, bok := before.([]any)
	al, aok := after.([]any)
	if bok && aok {
		w.list(path, bl, al, want, owned)
		return
	}
	if sameValue(before, after) {
		return
	}
	w.add(path, before, after)
}

// list matches items by key (containers by name, ports by port) when
// both lists have one, else by position when they have as many items;
// otherwise the list is one value.
func (w *differ) list(path string, before, after []any, want, owned any) {
	wl, _ := want.([]any)
	key := listKey(after)
	if key != "" && (len(before) == 0 || listKey(before) == key) {
		byKey := map[string]any{}
		for _, it := range before {
			byKey[itemID(it.(map[string]any), key)] = it
		}
		wantKey := map[string]any{}
		for _, it := range wl {
			if m, ok := it.(map[string]any); ok {
				wantKey[itemID(m, key)] = m
			}
		}
		seen := map[string]bool{}
		for _, it := range after {
			m := it.(map[string]any)
			id := itemID(m, key)
			seen[id] = true
			w.walk(fmt.Sprintf("%s[%s=%v]", path, key, m[key]), byKey[id], m, wantKey[id], item(owned, key, m[key]))
		}
		for _, it := range before {
			m := it.(map[string]any)
			if id := itemID(m, key); !seen[id] && (!w.scoped || item(owned, key, m[key]) != nil) {
				w.add(fmt.Sprintf("%s[%s=%v]", path, key, m[key]), m, nil)
			}
		}
		return
	}
	if len(before) == len(after) {
		for i := range after {
			var wi, oi any
			if i < len(wl) {
				wi = wl[i]
			}
			if owned != nil {
				oi = whole // an atomic list: owned as a whole
			}
			w.walk(fmt.Sprintf("%s[%d]", path, i), before[i], after[i], wi, oi)
		}
		return
	}
	w.add(path, before, after)
}

func (w *differ) add(path string, before, after any) {
	c := FieldChange{Path: path, From: shown(before), To: shown(after)}
	switch {
	case before == nil:
		c.Op = "add"
	case after == nil:
		c.Op = "remove"
	default:
		c.Op = "change"
	}
	if w.secret && (strings.HasPrefix(path, "data.") || strings.HasPrefix(path, "stringData.") || path == "data" || path == "stringData") {
		c.From, c.To, c.Hidden = "", "", true
	}
	w.out = append(w.out, c)
}

func sameValue(a, b any) bool {
	if a == nil || b == nil {
		return zero(a) && zero(b)
	}
	return scalarEqual(a, b, false) || reflect.DeepEqual(a, b)
}

func shown(v any) string {
	if v == nil {
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > maxValue {
		return string(b[:maxValue]) + "…"
	}
	return string(b)
}

func sortChanges(cs []ObjectChange) {
	sort.Slice(cs, func(i, j int) bool { return cs[i].Object.id() < cs[j].Object.id() })
}
