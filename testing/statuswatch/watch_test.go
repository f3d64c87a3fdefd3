package statuswatch

import (
	"context"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestAwaitReturnsWhenTheLastKeyWasFirstSeen(t *testing.T) {
	w := New(func(u *unstructured.Unstructured) ([]string, string) {
		k, _, _ := unstructured.NestedString(u.Object, "status", "done")
		if k == "" {
			return nil, u.GetName() + " busy"
		}
		return []string{u.GetName() + " " + k}, u.GetName() + " done"
	})
	obj := func(name, done string) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{"metadata": map[string]any{"name": name}, "status": map[string]any{"done": done}}}
	}
	t0 := time.Now()
	w.Note(obj("a", "r1"), t0)
	w.Note(obj("b", ""), t0)
	if _, err := w.Await(context.Background(), 10*time.Millisecond, "a r1", "b r1"); err == nil {
		t.Fatal("Await returned before b reported r1")
	}
	w.Note(obj("b", "r1"), t0.Add(time.Second))
	w.Note(obj("b", "r1"), t0.Add(2*time.Second)) // seen again: the first time stays
	got, err := w.Await(context.Background(), time.Second, "a r1", "b r1")
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(t0.Add(time.Second)) {
		t.Errorf("Await = t0+%v, want t0+1s", got.Sub(t0))
	}
	each, err := w.AwaitEach(context.Background(), time.Second, DeployedKey, "r1", "a", "b")
	if err != nil || !each.Equal(got) {
		t.Errorf("AwaitEach = t0+%v, %v; want Await's t0+1s", each.Sub(t0), err)
	}
	if _, err := w.AwaitEach(context.Background(), 10*time.Millisecond, DeployedKey, "r2", "a"); err == nil {
		t.Error("AwaitEach returned for a revision not seen")
	}
}

// Several waiters park on one Watch (a namespace's and all namespaces'):
// a Note must wake all of them, not the one that takes a token.
func TestANoteWakesEveryWaiter(t *testing.T) {
	w := New(func(u *unstructured.Unstructured) ([]string, string) { return []string{u.GetName()}, "" })
	w.mu.Lock()
	parked := w.changed // what each waiter selects on
	w.mu.Unlock()
	w.Note(&unstructured.Unstructured{Object: map[string]any{"metadata": map[string]any{"name": "a"}}}, time.Now())
	for i := range 2 {
		select {
		case <-parked:
		default:
			t.Fatalf("waiter %d not woken", i+1)
		}
	}
}

func TestDeployedKeysAreTheDeployedCommitsOfTheHistory(t *testing.T) {
	u := &unstructured.Unstructured{Object: map[string]any{
		"metadata": map[string]any{"name": "syncgate", "namespace": "team"},
		"status": map[string]any{"history": []any{
			map[string]any{"sha": "aaa", "state": "deployed"},
			map[string]any{"sha": "bbb", "state": "failed"},
			map[string]any{"sha": "ccc", "state": "rolling-out"},
		}},
	}}
	keys, state := deployedKeys(u)
	if len(keys) != 1 || keys[0] != DeployedKey("team", "aaa") {
		t.Errorf("keys %v, want only aaa's", keys)
	}
	if state != "team: ccc rolling-out" {
		t.Errorf("state %q", state)
	}
}
