package clusterwide_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/syncgate/syncgate/sync/clusterwide"
	"github.com/syncgate/syncgate/testing/cluster"
)

// Callers asking together share one question: one of them giving up does
// not leave the others without the answer.
func TestSharedQuestionOutlivesACanceledCaller(t *testing.T) {
	c := cluster.Shared(t)
	held, release := make(chan struct{}, 1), make(chan struct{})
	cfg := c.RESTConfig()
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTrip(func(r *http.Request) (*http.Response, error) {
			if strings.HasPrefix(r.URL.Path, reviews) {
				select {
				case held <- struct{}{}:
				default:
				}
				select {
				case <-release:
				case <-r.Context().Done():
					return nil, r.Context().Err()
				}
			}
			return rt.RoundTrip(r)
		})
	})
	asker, err := dynamic.NewForConfig(cfg)
	require.NoError(t, err)
	g := clusterwide.NewGrants(asker, 0, nil)
	gvr := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}

	type answer struct {
		may bool
		err error
	}
	ask := func(ctx context.Context) <-chan answer {
		ch := make(chan answer, 1)
		go func() {
			may, err := g.Ask(ctx, gvr)
			ch <- answer{may, err}
		}()
		return ch
	}
	first, cancel := context.WithCancel(context.Background())
	defer cancel()
	firstGot := ask(first)
	<-held
	secondGot := ask(context.Background())
	require.Eventually(t, func() bool { return clusterwide.Waiting(g, gvr) == 1 }, 30*time.Second, 10*time.Millisecond)

	cancel()
	require.ErrorIs(t, (<-firstGot).err, context.Canceled)
	close(release)
	got := <-secondGot
	require.NoError(t, got.err, "the question failed for all when its first caller gave up")
	require.True(t, got.may)
}
