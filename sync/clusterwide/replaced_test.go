package clusterwide_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/syncgate/syncgate/sync/clusterwide"
	"github.com/syncgate/syncgate/testing/cluster"
	"github.com/syncgate/syncgate/testing/requestlog"
)

// An object deleted while a watch in every namespace, refused, gives way
// to watches per namespace is told deleted: what the handler was told
// follows the cluster, not only what the new watches see.
func TestDeletedWhileTheWatchIsReplaced(t *testing.T) {
	c := cluster.Shared(t)
	ctx := context.Background()
	a, b := cluster.Namespace(t, c), cluster.Namespace(t, c)
	cfg := reader(t, c, a, b)
	user := cfg.Impersonate.UserName
	kube, err := kubernetes.NewForConfig(c.RESTConfig())
	require.NoError(t, err)
	takeBack := bindEverywhere(t, kube, user)

	v := &valve{}
	cfg.Wrap(v.wrap)
	seen := &requestlog.Log{}
	dyn := client(t, cfg, seen)
	create(t, c, a, "kept")
	create(t, c, a, "gone")
	w := start(t, dyn, clusterwide.NewGrants(dyn, 0, nil), []string{a, b})
	w.await(t, a+"/kept", a+"/gone")
	require.Len(t, seen.Watches("/api/v1/configmaps"), 1, "watched in every namespace")

	// The deletion is held from the watch in every namespace, which is
	// then refused.
	v.hold()
	require.NoError(t, kube.CoreV1().ConfigMaps(a).Delete(ctx, "gone", metav1.DeleteOptions{}))
	require.NoError(t, takeBack())
	awaitMay(t, kube, user, false)
	v.cut()

	w.awaitDeleted(t, a+"/gone")
	require.NotEmpty(t, seen.Watches("/api/v1/namespaces/"+a+"/configmaps"), "watched per namespace since")
	require.Contains(t, w.names(), a+"/kept")
}

// awaitMay waits until the API server's authorizer says may of user
// listing ConfigMaps in every namespace.
func awaitMay(t *testing.T, kube kubernetes.Interface, user string, may bool) {
	t.Helper()
	require.Eventually(t, func() bool {
		r, err := kube.AuthorizationV1().SubjectAccessReviews().Create(context.Background(), &authorizationv1.SubjectAccessReview{
			Spec: authorizationv1.SubjectAccessReviewSpec{User: user,
				ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "list", Resource: "configmaps"}},
		}, metav1.CreateOptions{})
		return err == nil && r.Status.Allowed == may
	}, 30*time.Second, 50*time.Millisecond, "%s may list ConfigMaps everywhere: %v", user, may)
}

// valve stands between the watches in every namespace and their streams:
// held, a stream passes nothing more; cut, it ends.
type valve struct {
	mu      sync.Mutex
	streams []*stream
}

func (v *valve) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTrip(func(r *http.Request) (*http.Response, error) {
		resp, err := rt.RoundTrip(r)
		if err != nil || r.URL.Path != "/api/v1/configmaps" || !strings.Contains(r.URL.RawQuery, "watch=true") {
			return resp, err
		}
		s := &stream{ReadCloser: resp.Body, cut: make(chan struct{})}
		v.mu.Lock()
		v.streams = append(v.streams, s)
		v.mu.Unlock()
		resp.Body = s
		return resp, nil
	})
}

func (v *valve) hold() {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, s := range v.streams {
		s.mu.Lock()
		s.held = true
		s.mu.Unlock()
	}
}

func (v *valve) cut() {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, s := range v.streams {
		s.once.Do(func() {
			close(s.cut)
			_ = s.ReadCloser.Close()
		})
	}
	v.streams = nil
}

type stream struct {
	io.ReadCloser
	mu   sync.Mutex
	held bool
	cut  chan struct{}
	once sync.Once
}

// Read passes what arrived until held; then it drops it and waits for
// the cut.
func (s *stream) Read(p []byte) (int, error) {
	n, err := s.ReadCloser.Read(p)
	s.mu.Lock()
	held := s.held
	s.mu.Unlock()
	if !held {
		return n, err
	}
	<-s.cut
	return 0, errors.New("watch stream cut")
}
