package apply_test

import (
	"context"
	"fmt"
	"net/http"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/testing/cluster"
)

// cutTransport forwards each write that is not a dry run, and then answers
// as a connection reset would: the API server stored it, the client never
// heard so.
type cutTransport struct{ rt http.RoundTripper }

func (c cutTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.rt.RoundTrip(r)
	if err != nil || r.Method != http.MethodPatch || r.URL.Query().Has("dryRun") {
		return resp, err
	}
	resp.Body.Close()
	return nil, fmt.Errorf("read: %w", syscall.ECONNRESET)
}

// A write whose answer was lost may be live: the failed Apply's inventory
// holds it, with no hash so that the next Apply sends it again, and a
// later commit that drops it prunes it.
func TestAWriteCutShortIsInTheFailedInventory(t *testing.T) {
	for _, tc := range []struct {
		name string
		prev string // hash of the previous entry; none when empty
	}{
		{"created", ""},
		{"changed", "abc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := setup(t)
			ctx := context.Background()
			cfg := cluster.Shared(t).RESTConfig()
			cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return cutTransport{rt} })
			cut, err := apply.New(cfg, apply.Options{Prune: true})
			require.NoError(t, err)
			settings := ref("", "ConfigMap", e.ns, "settings")
			var prev []apply.Entry
			if tc.prev != "" {
				prev = []apply.Entry{{ObjectRef: settings, Hash: tc.prev}}
			}

			res, err := cut.Apply(ctx, e.ns, objects(t, configMap(e.ns, "settings", "a")), prev)
			require.ErrorIs(t, err, syscall.ECONNRESET)
			require.NotNil(t, res)
			require.Empty(t, res.Applied)
			require.Equal(t, []apply.Entry{{ObjectRef: settings}}, res.Inventory, "possibly live, in a state not known")
			_, err = e.kube.CoreV1().ConfigMaps(e.ns).Get(ctx, "settings", metav1.GetOptions{})
			require.NoError(t, err, "the API server stored the write")

			res, err = e.applier.Apply(ctx, e.ns, nil, res.Inventory)
			require.NoError(t, err)
			require.Equal(t, []apply.ObjectRef{settings}, res.Pruned)
		})
	}
}
