package apply_test

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/testing/cluster"
)

// patches records the query of every PATCH any of its transports sent.
type patches struct {
	mu      sync.Mutex
	queries []string
}

// via is one client's transport, recording into its patches.
type via struct {
	*patches
	next http.RoundTripper
}

func (v via) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPatch {
		v.mu.Lock()
		v.queries = append(v.queries, r.URL.RawQuery)
		v.mu.Unlock()
	}
	return v.next.RoundTrip(r)
}

// Every apply, dry run or not, spares the API server the second parse of
// the body that field validation is (syncgate's bodies cannot hold a
// duplicate key), and that loosens nothing: a field the schema does not
// declare is still refused by the dry run, and nothing is written.
func TestFieldValidationLoosensNothing(t *testing.T) {
	c := cluster.Shared(t)
	ns := cluster.Namespace(t, c)
	cfg := c.RESTConfig()
	rec := &patches{}
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return via{rec, rt} })
	a, err := apply.New(cfg, apply.Options{})
	require.NoError(t, err)
	ctx := context.Background()

	bad := objects(t, configMap(ns, "settings", "a"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other, namespace: "+ns+"}\nbogus: 1\n")
	_, err = a.Apply(ctx, ns, bad, nil)
	var ve *apply.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Len(t, ve.Objects, 1)
	require.Contains(t, ve.Error(), ".bogus: field not declared in schema")
	require.Len(t, rec.queries, 2, "a dry run of each, nothing written")

	_, err = a.Apply(ctx, ns, bad[:1], nil)
	require.NoError(t, err)
	require.Len(t, rec.queries, 4)
	for _, q := range rec.queries {
		require.Contains(t, q, "fieldValidation=Ignore")
	}
}
