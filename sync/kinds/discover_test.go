package kinds_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"

	"github.com/syncgate/syncgate/sync/kinds"
)

// apiServer serves discovery as a Kubernetes API server of one version
// would: answer is its document for a path, served as contentType when
// the Accept header offers it (and 406 otherwise, as the API server does).
type apiServer struct {
	contentType string
	answer      func(path string) []byte

	mu      sync.Mutex
	accepts []string
}

func (a *apiServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.accepts = append(a.accepts, r.Header.Get("Accept"))
	a.mu.Unlock()
	offered := false
	for _, t := range strings.Split(r.Header.Get("Accept"), ",") {
		offered = offered || strings.TrimSpace(t) == a.contentType || a.contentType == "application/json"
	}
	if !offered {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotAcceptable)
		_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","message":"only the following media types are accepted: application/json","reason":"NotAcceptable","code":406}`))
		return
	}
	w.Header().Set("Content-Type", a.contentType)
	_, _ = w.Write(a.answer(r.URL.Path))
}

func (a *apiServer) mapper(t *testing.T) *kinds.Mapper {
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	m, err := kinds.New(&rest.Config{Host: srv.URL})
	require.NoError(t, err)
	return m
}

func recorded(t *testing.T, prefix string) func(string) []byte {
	return func(path string) []byte {
		b, err := os.ReadFile("testdata/" + prefix + strings.ReplaceAll(path, "/", "-") + ".json")
		require.NoError(t, err)
		return b
	}
}

// Kubernetes 1.27 to 1.29 serve aggregated discovery as v2beta1 only: it
// is read as v2 is, v2 being asked for first.
func TestDiscoveryV2beta1(t *testing.T) {
	server := &apiServer{contentType: "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList", answer: recorded(t, "v2beta1")}
	m := server.mapper(t)
	require.NoError(t, m.Load(context.Background()))
	require.Equal(t, []string{
		"application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList",
		"application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList",
	}, server.accepts)

	requireMappings(t, m, append(coreAndApps, mapping{schema.GroupKind{Group: "autoscaling", Kind: "HorizontalPodAutoscaler"},
		schema.GroupVersionResource{Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers"}, true}))
	require.Len(t, server.accepts, 2, "one load answers every known kind")

	preferred, err := m.Preferred()
	require.EqualError(t, err, "discovery of metrics.k8s.io/v1beta1 failed: stale")
	require.Contains(t, preferred, kinds.Resource{GroupVersionResource: schema.GroupVersionResource{Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers"},
		Kind: "HorizontalPodAutoscaler", Namespaced: true, Verbs: []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}})
}

// An API server older than 1.27 (or with aggregated discovery off) is
// refused in one error naming the version needed, whether it refuses the
// Accept header or answers in the discovery of old.
func TestDiscoveryNotAggregated(t *testing.T) {
	for name, server := range map[string]*apiServer{
		"refuses": {contentType: "application/vnd.kubernetes.protobuf", answer: recorded(t, "v2beta1")},
		"answers unaggregated": {contentType: "application/json", answer: func(string) []byte {
			return []byte(`{"kind":"APIGroupList","apiVersion":"v1","groups":[]}`)
		}},
	} {
		t.Run(name, func(t *testing.T) {
			err := server.mapper(t).Load(context.Background())
			require.True(t, errors.Is(err, kinds.ErrNotAggregated), "%v", err)
			require.ErrorContains(t, err, "Kubernetes 1.27 or later is needed")
			require.NotContains(t, err.Error(), "\n")
		})
	}
}
