package apply

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
)

func TestCountingTransport(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}}`))
	}))
	defer srv.Close()
	c := &CountingTransport{}
	dyn, err := dynamic.NewForConfig(c.Wrap(&rest.Config{Host: srv.URL}))
	require.NoError(t, err)
	r := dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}).Namespace("n")
	ctx := context.Background()

	_, err = r.Get(ctx, "x", metav1.GetOptions{})
	require.NoError(t, err)
	_, err = r.Patch(ctx, "x", types.ApplyPatchType, []byte(`{}`), metav1.PatchOptions{FieldManager: "t", DryRun: []string{metav1.DryRunAll}})
	require.NoError(t, err)
	_, err = r.Patch(ctx, "x", types.ApplyPatchType, []byte(`{}`), metav1.PatchOptions{FieldManager: "t"})
	require.NoError(t, err)
	require.NoError(t, r.Delete(ctx, "x", metav1.DeleteOptions{}))

	got := c.Counts()
	require.Equal(t, Counts{Total: 4, Mutating: 2, DryRun: 1, ByVerb: map[string]int64{"GET": 1, "PATCH": 2, "DELETE": 1}}, got)
	c.Reset()
	require.Equal(t, Counts{}, c.Counts())
}
