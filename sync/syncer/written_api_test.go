package syncer

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/client-go/dynamic"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/testing/cluster"
	"github.com/syncgate/syncgate/testing/demo"
)

// versionStore is a Version store on the package's API server, the CRD
// installed.
func versionStore(t *testing.T) (*cluster.Cluster, *version.Store) {
	t.Helper()
	c := cluster.Shared(t)
	root, err := cluster.RepoRoot()
	require.NoError(t, err)
	require.NoError(t, demo.InstallCRD(context.Background(), c, root))
	dyn, err := dynamic.NewForConfig(c.RESTConfig())
	require.NoError(t, err)
	return c, version.NewStore(dyn)
}

// Against the API server: the write over the status last written fails on
// its resourceVersion once another writer changed the record, and is made
// when the other changed only what the outbox writes: the reports owed, and
// what a sink keeps of a commit.
func TestAWriteOverTheLastStatusFailsOnThePrecondition(t *testing.T) {
	c, store := versionStore(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		meanwhile func(*version.VersionStatus)
		refused   bool
	}{
		{"a report delivered", func(st *version.VersionStatus) {
			st.Owed = append(st.Owed, version.OwedReport{Sink: "s3", SHA: "c1", State: status.Deployed})
		}, false},
		{"a deployment id kept", func(st *version.VersionStatus) {
			st.Find("c1").SinkRefs = map[string]string{"gitlab-deployments": "42"}
		}, false},
		{"another leader's record", func(st *version.VersionStatus) {
			st.Head = "c2"
			st.Inventory = inventoryOf([]apply.Entry{entry("theirs", "t1")})
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := cluster.Namespace(t, c)
			s, err := New(Options{Cluster: "c", Namespaces: []string{ns}, Source: oneCommit("c1"), Store: store})
			require.NoError(t, err)
			w := newWorker(s, ns)
			require.Eventually(t, func() bool {
				v, err := store.Ensure(ctx, ns, version.VersionSpec{Cluster: "c"})
				if err == nil {
					w.hold(v)
				}
				return err == nil
			}, time.Minute, 50*time.Millisecond, "the CRD is served")
			require.NoError(t, w.update(ctx, func(st *version.VersionStatus) []status.Update {
				st.Inventory = inventoryOf([]apply.Entry{entry("kept", "k0")})
				st.Record(version.Commit{SHA: "c1", State: status.Applying})
				return nil
			}))
			_, err = store.UpdateStatus(ctx, ns, func(st *version.VersionStatus) error {
				tc.meanwhile(st)
				return nil
			})
			require.NoError(t, err)
			err = w.updateOver(ctx, w.version, func(st *version.VersionStatus) []status.Update {
				st.Inventory = inventoryOf([]apply.Entry{entry("kept", "k0"), entry("created", "")})
				return nil
			})
			v, gerr := store.Get(ctx, ns)
			require.NoError(t, gerr)
			got := map[string]string{}
			for _, e := range v.Status.Inventory {
				got[e.Name] = e.Hash
			}
			if tc.refused {
				require.ErrorIs(t, err, errWrittenSince)
				require.Equal(t, map[string]string{"theirs": "t1"}, got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, map[string]string{"kept": "k0", "created": ""}, got)
			if tc.name == "a report delivered" {
				require.Len(t, v.Status.Owed, 1, "the report owed is kept")
			} else {
				require.Equal(t, map[string]string{"gitlab-deployments": "42"}, v.Status.Find("c1").SinkRefs, "the id kept is kept")
			}
		})
	}
}
