package version

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	jsonpatch "gopkg.in/evanphx/json-patch.v4"
)

// entry is a history entry as stored, numbered.
func entry(i int, state string) map[string]any {
	return map[string]any{"sha": fmt.Sprintf("%040d", i), "state": state, "appliedAt": "2026-11-30T09:00:00Z",
		"finishedAt": "2026-11-30T09:00:01Z", "ready": float64(100), "total": float64(100), "deploymentRefs": "0-3"}
}

// history returns entries first..last, newest first, all deployed.
func history(last, first int) []any {
	var h []any
	for i := last; i >= first; i-- {
		h = append(h, entry(i, "Deployed"))
	}
	return h
}

func reversed(l []any) []any {
	out := make([]any, 0, len(l))
	for i := len(l) - 1; i >= 0; i-- {
		out = append(out, l[i])
	}
	return out
}

func TestDiffJSONPatchesToTheNewDocument(t *testing.T) {
	withState := func(h []any, i int, state string) []any {
		h = append([]any(nil), h...)
		e := map[string]any{}
		for k, v := range h[i].(map[string]any) {
			e[k] = v
		}
		e["state"] = state
		h[i] = e
		return h
	}
	inventory := map[string]any{"packedInventory": string(make([]byte, 4000))}
	for _, tc := range []struct {
		name    string
		a, b    any
		maxOps  int // at most this many operations
		whole   bool
		noPatch bool
	}{
		{name: "unchanged", a: map[string]any{"history": history(50, 1), "x": "y"}, b: map[string]any{"history": history(50, 1), "x": "y"}, noPatch: true},
		{name: "a commit recorded: put first, the oldest trimmed",
			a: map[string]any{"history": history(50, 1), "applied": "50", "inv": inventory},
			b: map[string]any{"history": history(51, 2), "applied": "51", "inv": inventory}, maxOps: 3},
		{name: "put first and the one after changed in place",
			a: map[string]any{"history": withState(history(50, 1), 0, "RollingOut")},
			b: map[string]any{"history": history(51, 2)}, maxOps: 3},
		{name: "an entry in the middle dropped", a: history(10, 1), b: append(history(10, 6), history(4, 1)...), maxOps: 1},
		{name: "a field added and one removed", a: map[string]any{"a": "1", "b": true}, b: map[string]any{"a": "1", "c": nil}, maxOps: 2},
		{name: "a key to escape", a: map[string]any{"a/b~c": "1"}, b: map[string]any{"a/b~c": "2"}, maxOps: 1},
		{name: "types change", a: map[string]any{"a": []any{"x"}}, b: map[string]any{"a": map[string]any{"x": "y"}}, maxOps: 1},
		{name: "everything differs: sent whole", a: []any{"a", "b", "c"}, b: []any{"d", "e", "f"}, whole: true},
		{name: "lists too long to pair: sent whole", a: history(200, 1), b: reversed(history(200, 1)), whole: true},
		{name: "emptied", a: history(3, 1), b: []any{}, maxOps: 3},
		{name: "filled", a: []any{}, b: history(3, 1), maxOps: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ops, err := diffJSON("/status", tc.a, tc.b, nil)
			require.NoError(t, err)
			if tc.noPatch {
				require.Empty(t, ops)
				return
			}
			if tc.whole {
				require.Len(t, ops, 1)
				require.Equal(t, "replace", ops[0].Op)
				require.Equal(t, "/status", ops[0].Path)
			} else {
				require.LessOrEqual(t, len(ops), tc.maxOps, "%+v", ops)
			}
			body, err := json.Marshal(ops)
			require.NoError(t, err)
			patch, err := jsonpatch.DecodePatch(body)
			require.NoError(t, err)
			doc, err := json.Marshal(map[string]any{"status": tc.a})
			require.NoError(t, err)
			got, err := patch.Apply(doc)
			require.NoError(t, err, "%s", body)
			want, err := json.Marshal(map[string]any{"status": tc.b})
			require.NoError(t, err)
			require.JSONEq(t, string(want), string(got))
		})
	}
}

// The patch recording a commit sends the new entry and the fields that
// moved, not the history or the inventory again.
func TestDiffJSONOfACommitRecordedIsSmall(t *testing.T) {
	inv := string(make([]byte, 4000))
	a := map[string]any{"history": history(50, 1), "applied": fmt.Sprintf("%040d", 50), "packedInventory": inv}
	b := map[string]any{"history": history(51, 2), "applied": fmt.Sprintf("%040d", 51), "packedInventory": inv}
	ops, err := diffJSON("/status", a, b, nil)
	require.NoError(t, err)
	body, err := json.Marshal(ops)
	require.NoError(t, err)
	whole, err := json.Marshal(b)
	require.NoError(t, err)
	require.Less(t, len(body), 600, "%s", body)
	require.Greater(t, len(whole), 10*len(body))
}
