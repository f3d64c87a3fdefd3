package version

// A status write sends what it changes, not the whole status: recording a
// commit in a namespace whose inputs did not change adds one history entry
// and moves a few fields, while the whole status carries the packed
// inventory and fifty history entries (100 namespaces of 100 objects: 8 KiB
// per write, 103 writes per commit). The write is a JSON patch (RFC 6902)
// from the status exactly as the API server returned it at a
// resourceVersion, made conditional on that resourceVersion, so what the
// server stores is what a whole update would have stored: a Version in an
// older stored form is turned into this one as a whole update would.
//
// gomodules.xyz/jsonpatch pairs array elements by index, so a history
// entry put first would resend every entry after it; history is newest
// first, so lists are paired by a longest common subsequence here.

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// maxPairings bounds the longest-common-subsequence table of one list
// (the parts that differ, old × new): past it the list is sent whole.
const maxPairings = 1 << 14

// patchOp is one RFC 6902 operation; Value is left out for "remove".
type patchOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value,omitempty"`
}

// diffJSON appends to ops what turns a into b at path; a and b are decoded
// JSON (maps, lists, strings, numbers, booleans, nil).
func diffJSON(path string, a, b any, ops []patchOp) ([]patchOp, error) {
	if am, ok := a.(map[string]any); ok {
		if bm, ok := b.(map[string]any); ok {
			return diffMap(path, am, bm, ops)
		}
	}
	if al, ok := a.([]any); ok {
		if bl, ok := b.([]any); ok {
			return diffList(path, al, bl, ops)
		}
	}
	ea, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	eb, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	if bytes.Equal(ea, eb) {
		return ops, nil
	}
	return append(ops, patchOp{Op: "replace", Path: path, Value: eb}), nil
}

func diffMap(path string, a, b map[string]any, ops []patchOp) ([]patchOp, error) {
	keys := slices.AppendSeq(slices.Collect(maps.Keys(a)), maps.Keys(b))
	slices.Sort(keys)
	keys = slices.Compact(keys)
	for _, k := range keys {
		p := path + "/" + escapePointer(k)
		av, inA := a[k]
		bv, inB := b[k]
		var err error
		switch {
		case !inB:
			ops = append(ops, patchOp{Op: "remove", Path: p})
		case !inA:
			var v []byte
			v, err = json.Marshal(bv)
			ops = append(ops, patchOp{Op: "add", Path: p, Value: v})
		default:
			ops, err = diffJSON(p, av, bv, ops)
		}
		if err != nil {
			return nil, err
		}
	}
	return ops, nil
}

// diffList turns list a into b keeping their longest common subsequence:
// each run of a's elements that b replaces by a run of its own is paired
// from the end (an entry put first is an add; one changed in place, a
// patch of its fields), what is left of the longer run added or removed.
// When that would send more than b itself, b is sent whole.
func diffList(path string, a, b []any, ops []patchOp) ([]patchOp, error) {
	ea, err := encodeEach(a)
	if err != nil {
		return nil, err
	}
	eb, err := encodeEach(b)
	if err != nil {
		return nil, err
	}
	whole, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	start := len(ops)
	replace := func() []patchOp { return append(ops[:start:start], patchOp{Op: "replace", Path: path, Value: whole}) }
	pre := 0
	for pre < len(ea) && pre < len(eb) && ea[pre] == eb[pre] {
		pre++
	}
	suf := 0
	for suf < len(ea)-pre && suf < len(eb)-pre && ea[len(ea)-1-suf] == eb[len(eb)-1-suf] {
		suf++
	}
	ma, mb := ea[pre:len(ea)-suf], eb[pre:len(eb)-suf]
	if len(ma) == 0 && len(mb) == 0 {
		return ops, nil
	}
	if len(ma)*len(mb) > maxPairings {
		return replace(), nil
	}
	at := pre
	i, j := 0, 0
	for _, seg := range commonRuns(ma, mb) {
		// a[i:seg.a] is replaced by b[j:seg.b], then seg.n elements kept.
		ops, at, err = replaceRun(path, a[pre+i:pre+seg.a], b[pre+j:pre+seg.b], eb[pre+j:pre+seg.b], at, ops)
		if err != nil {
			return nil, err
		}
		at += seg.n
		i, j = seg.a+seg.n, seg.b+seg.n
	}
	if patchSize(ops[start:]) >= len(whole)+len(path)+32 {
		return replace(), nil
	}
	return ops, nil
}

// replaceRun appends what turns the run olds, at index at of the list as
// patched so far, into news; it returns the index after the run.
func replaceRun(path string, olds, news []any, encoded []string, at int, ops []patchOp) ([]patchOp, int, error) {
	added := max(len(news)-len(olds), 0)
	for k := range added {
		ops = append(ops, patchOp{Op: "add", Path: path + "/" + strconv.Itoa(at), Value: json.RawMessage(encoded[k])})
		at++
	}
	paired := min(len(olds), len(news))
	for k := range paired {
		var err error
		ops, err = diffJSON(path+"/"+strconv.Itoa(at), olds[k], news[added+k], ops)
		if err != nil {
			return nil, 0, err
		}
		at++
	}
	for range len(olds) - paired {
		ops = append(ops, patchOp{Op: "remove", Path: path + "/" + strconv.Itoa(at)})
	}
	return ops, at, nil
}

// commonRun is a run of n equal elements at a[a:] and b[b:].
type commonRun struct{ a, b, n int }

// commonRuns returns the runs of a longest common subsequence of a and b,
// in order, ending with an empty run at the ends of both.
func commonRuns(a, b []string) []commonRun {
	w := len(b) + 1
	lcs := make([]int32, (len(a)+1)*w) // lcs[i*w+j]: of a[i:] and b[j:]
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i*w+j] = lcs[(i+1)*w+j+1] + 1
			} else {
				lcs[i*w+j] = max(lcs[(i+1)*w+j], lcs[i*w+j+1])
			}
		}
	}
	var runs []commonRun
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			if n := len(runs); n > 0 && runs[n-1].a+runs[n-1].n == i && runs[n-1].b+runs[n-1].n == j {
				runs[n-1].n++
			} else {
				runs = append(runs, commonRun{a: i, b: j, n: 1})
			}
			i, j = i+1, j+1
		case lcs[(i+1)*w+j] >= lcs[i*w+j+1]:
			i++
		default:
			j++
		}
	}
	return append(runs, commonRun{a: len(a), b: len(b)})
}

func encodeEach(l []any) ([]string, error) {
	out := make([]string, len(l))
	for i, v := range l {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		out[i] = string(b)
	}
	return out, nil
}

func patchSize(ops []patchOp) int {
	n := 0
	for _, o := range ops {
		n += len(o.Op) + len(o.Path) + len(o.Value) + 32
	}
	return n
}

// escapePointer escapes a key for a JSON pointer (RFC 6901).
func escapePointer(k string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(k)
}
