package syncer

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/record"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/sync/render"
	"github.com/syncgate/syncgate/testing/gittree"
)

var (
	_ keyedRenderer = (*render.Renderer)(nil)
	_ KeyedApplier  = (*apply.Applier)(nil)
)

type namespaced struct{}

func (namespaced) IsNamespaced(schema.GroupVersionKind) (bool, error) { return true, nil }

// keysSeen is an applier that records the keys each apply was given.
type keysSeen struct {
	mu   sync.Mutex
	keys [][]string
}

func (k *keysSeen) ApplyKeyed(_ context.Context, _ string, objs []*unstructured.Unstructured, keys []string, _ []apply.Entry) (*apply.Result, error) {
	k.mu.Lock()
	k.keys = append(k.keys, keys)
	k.mu.Unlock()
	res := &apply.Result{}
	for _, o := range objs {
		res.Inventory = append(res.Inventory, entry(o.GetName(), "h"))
	}
	return res, nil
}

func (k *keysSeen) Apply(context.Context, string, []*unstructured.Unstructured, []apply.Entry) (*apply.Result, error) {
	panic("a keyed apply was expected")
}

func (k *keysSeen) Drift(context.Context, string, []*unstructured.Unstructured, []apply.Entry) (*apply.Result, error) {
	return &apply.Result{}, nil
}

func (k *keysSeen) Owned(context.Context, string) ([]apply.Entry, error) { return nil, nil }

func (k *keysSeen) given() [][]string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([][]string(nil), k.keys...)
}

// The keys the render gives each object reach the apply: the same for an
// object no commit changed, another for the one that changed.
func TestObjectKeysGoFromRenderToApply(t *testing.T) {
	cm := func(name, v string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + "}\ndata: {v: \"" + v + "\"}\n"
	}
	src := &commits{head: "a", trees: map[string]gittree.Tree{}}
	src.add("a", map[string]string{"web/one.yaml": cm("one", "1"), "web/two.yaml": cm("two", "1")})
	src.add("b", map[string]string{"web/one.yaml": cm("one", "2"), "web/two.yaml": cm("two", "1")})
	r, err := render.New(render.Options{Cluster: "c", Scoper: namespaced{}})
	require.NoError(t, err)
	applier := &keysSeen{}
	store := &memStore{v: map[string]*version.Version{}}
	s, err := New(Options{
		Cluster: "c", Namespaces: []string{"web"}, Source: src,
		Renderer: r, Applier: applier, Readiness: readyAtOnce{}, Store: store,
		Events: record.NewFakeRecorder(1000), RetryInterval: 10 * time.Millisecond, RetryBudget: time.Minute,
	})
	require.NoError(t, err)
	ctx := runUntilEnd(t, s)
	h := &harness{t: t, store: store}
	h.eventually("a", status.Deployed)
	src.mu.Lock()
	src.head = "b"
	src.mu.Unlock()
	_, _ = s.Fetch(ctx)
	h.eventually("b", status.Deployed)

	keys := applier.given()
	require.Len(t, keys, 2)
	require.Len(t, keys[0], 2)
	require.NotEmpty(t, keys[0][0])
	require.NotEqual(t, keys[0][0], keys[1][0], "one.yaml changed")
	require.Equal(t, keys[0][1], keys[1][1], "two.yaml did not")
}
