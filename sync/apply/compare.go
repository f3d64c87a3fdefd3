package apply

import (
	"encoding/base64"
	"fmt"
	"reflect"
	"strconv"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// asStored is the desired object in the form the API server stores it:
// a Secret's stringData is written into data.
func asStored(u *unstructured.Unstructured) *unstructured.Unstructured {
	if u.GetKind() != "Secret" || u.GroupVersionKind().Group != "" {
		return u
	}
	sd, ok := u.Object["stringData"].(map[string]any)
	if !ok {
		return u
	}
	c := u.DeepCopy()
	data, _ := c.Object["data"].(map[string]any)
	if data == nil {
		data = map[string]any{}
	}
	for k, v := range sd {
		if s, ok := v.(string); ok {
			data[k] = base64.StdEncoding.EncodeToString([]byte(s))
		}
	}
	delete(c.Object, "stringData")
	c.Object["data"] = data
	return c
}

// holds reports whether the live object have holds every field of want,
// the desired object. Fields the server or other managers add are ignored;
// a field absent from have holds only a zero want (the server omits empty
// values). Numbers compare by value and resource quantities by amount
// ("0.5" holds as "500m"). Lists of objects with a key ("name", "port", ...)
// are matched by key, since other managers may own more items; other lists
// must hold item for item.
func holds(have, want map[string]any) bool { return holdsValue(have, want, false) }

func holdsValue(have, want any, quantities bool) bool {
	switch w := want.(type) {
	case nil:
		return true
	case map[string]any:
		h, ok := have.(map[string]any)
		if !ok {
			return have == nil && len(w) == 0
		}
		for k, wv := range w {
			hv, ok := h[k]
			if !ok {
				if !zero(wv) {
					return false
				}
				continue
			}
			if !holdsValue(hv, wv, quantities || quantityField[k]) {
				return false
			}
		}
		return true
	case []any:
		h, ok := have.([]any)
		if !ok {
			return have == nil && len(w) == 0
		}
		if key := listKey(w); key != "" {
			return holdsKeyed(h, w, key, quantities)
		}
		if len(h) != len(w) {
			return false
		}
		for i := range w {
			if !holdsValue(h[i], w[i], quantities) {
				return false
			}
		}
		return true
	default:
		return scalarEqual(have, want, quantities)
	}
}

// quantityField names fields whose values are resource quantities.
var quantityField = map[string]bool{"resources": true, "hard": true, "limits": true, "requests": true, "capacity": true}

// listKeys are the keys lists of objects are merged on, most common first.
var listKeys = []string{"name", "mountPath", "devicePath", "containerPort", "port", "ip"}

func listKey(items []any) string {
	if len(items) == 0 {
		return ""
	}
next:
	for _, k := range listKeys {
		seen := map[string]bool{}
		for _, it := range items {
			m, ok := it.(map[string]any)
			if !ok {
				return ""
			}
			v, ok := m[k]
			if !ok {
				continue next
			}
			id := fmt.Sprint(v, "/", m["protocol"])
			if seen[id] {
				continue next
			}
			seen[id] = true
		}
		return k
	}
	return ""
}

func holdsKeyed(have, want []any, key string, quantities bool) bool {
	byKey := make(map[string]any, len(have))
	for _, it := range have {
		if m, ok := it.(map[string]any); ok {
			byKey[itemID(m, key)] = m
		}
	}
	for _, it := range want {
		m := it.(map[string]any)
		h, ok := byKey[itemID(m, key)]
		if !ok || !holdsValue(h, m, quantities) {
			return false
		}
	}
	return true
}

// itemID keys an item; ports are told apart by protocol too, TCP when unset.
func itemID(m map[string]any, key string) string {
	proto := m["protocol"]
	if proto == nil && (key == "port" || key == "containerPort") {
		proto = "TCP"
	}
	return fmt.Sprint(m[key], "/", proto)
}

func zero(v any) bool {
	if v == nil {
		return true
	}
	switch x := v.(type) {
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return reflect.ValueOf(v).IsZero()
}

func scalarEqual(have, want any, quantities bool) bool {
	if hf, ok := number(have); ok {
		if wf, ok := number(want); ok && hf == wf {
			return true
		}
	}
	if reflect.DeepEqual(have, want) {
		return true
	}
	if !quantities {
		return false
	}
	hq, err1 := resource.ParseQuantity(text(have))
	wq, err2 := resource.ParseQuantity(text(want))
	return err1 == nil && err2 == nil && hq.Cmp(wq) == 0
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}
