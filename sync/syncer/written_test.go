package syncer

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/record"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/sync/apply"
)

// ctxStore is memStore whose writes fail once their ctx ended, as the API
// server's do.
type ctxStore struct{ *memStore }

func (c ctxStore) UpdateStatus(ctx context.Context, ns string, fn func(*version.VersionStatus) error) (*version.Version, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return c.memStore.UpdateStatus(ctx, ns, fn)
}

// cutShort is an applier whose Apply, once the test let it begin, writes
// object "created" and waits until its ctx ends: the write was stored,
// its answer lost.
type cutShort struct {
	applyFunc
	applying chan struct{}
}

func (c cutShort) Apply(ctx context.Context, _ string, _ []*unstructured.Unstructured, prev []apply.Entry) (*apply.Result, error) {
	c.applying <- struct{}{}
	<-ctx.Done()
	return &apply.Result{Inventory: append(prev, entry("created", "n1"))}, ctx.Err()
}

// What an apply cut short by shutdown or a lost leadership wrote is
// recorded all the same, unless another leader wrote the Version since:
// its record stands. Before, the write was made with the ended ctx and
// failed, so a later head that dropped the object never pruned it.
func TestWhatAnApplyCutShortWroteIsRecorded(t *testing.T) {
	for _, tc := range []struct {
		name string
		// meanwhile is written while the apply runs.
		meanwhile func(*version.VersionStatus)
		want      map[string]string
	}{{
		name: "shutdown, a report delivered meanwhile",
		meanwhile: func(st *version.VersionStatus) {
			st.Owed = append(st.Owed, version.OwedReport{Sink: "s3", SHA: "c1", State: status.Deployed})
		},
		want: map[string]string{"kept": "k0", "created": ""},
	}, {
		name: "another leader took over",
		meanwhile: func(st *version.VersionStatus) {
			st.Head = "c2"
			st.Inventory = inventoryOf([]apply.Entry{entry("theirs", "t1")})
		},
		want: map[string]string{"theirs": "t1"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			mem := &memStore{v: map[string]*version.Version{}}
			mem.v["web"] = &version.Version{Status: version.VersionStatus{Inventory: inventoryOf([]apply.Entry{entry("kept", "k0")})}}
			parts := cutShort{applying: make(chan struct{}, 1)}
			s, err := New(Options{
				Cluster: "c", Namespaces: []string{"web"}, Source: oneCommit("c1"),
				Renderer: renderFunc(func() ([]*unstructured.Unstructured, error) {
					return []*unstructured.Unstructured{configMap("kept"), configMap("created")}, nil
				}),
				Applier: parts, Readiness: readyAtOnce{}, Store: ctxStore{mem},
				Events: record.NewFakeRecorder(100), RetryInterval: 10 * time.Millisecond,
			})
			require.NoError(t, err)
			cancel, ran := runCancellable(t, s)
			await(t, parts.applying, "c1 applied")
			_, err = mem.UpdateStatus(context.Background(), "web", func(st *version.VersionStatus) error {
				tc.meanwhile(st)
				return nil
			})
			require.NoError(t, err)
			cancel()
			await(t, ran, "the Run ended")
			got := map[string]string{}
			for _, e := range mem.get("web").Inventory {
				got[e.Name] = e.Hash
			}
			require.Equal(t, tc.want, got)
		})
	}
}
