package clusterwide_test

import (
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/syncgate/syncgate/sync/clusterwide"
	"github.com/syncgate/syncgate/testing/cluster"
	"github.com/syncgate/syncgate/testing/requestlog"
)

const reviews = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"

// unanswered fails the first n access questions as a connection to an
// API server not listening yet would (n < 0: every one until answering
// is set), and counts them.
type unanswered struct {
	n         int64
	answering atomic.Bool
	asked     atomic.Int64
}

func (u *unanswered) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTrip(func(r *http.Request) (*http.Response, error) {
		if strings.HasPrefix(r.URL.Path, reviews) {
			if at := u.asked.Add(1); u.n < 0 && !u.answering.Load() || at <= u.n {
				return nil, errors.New("dial tcp: connect: connection refused")
			}
		}
		return rt.RoundTrip(r)
	})
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// An access question the API server did not answer is asked again before
// anything is watched per namespace, and for a bounded time only; a
// refusal is followed at once.
func TestAccessQuestionAskedAgainOnErrorOnly(t *testing.T) {
	defer func(b, re wait.Backoff) { *clusterwide.AskBackoff, *clusterwide.ReaskBackoff = b, re }(*clusterwide.AskBackoff, *clusterwide.ReaskBackoff)
	*clusterwide.AskBackoff = wait.Backoff{Duration: 50 * time.Millisecond, Factor: 2, Steps: 3}
	*clusterwide.ReaskBackoff = wait.Backoff{Duration: time.Hour} // asked again later: TestBackToEveryNamespaceOnceAnswered
	for _, tc := range []struct {
		name        string
		failing     int64 // questions left unanswered, -1 for all
		granted     bool
		clusterWide bool
		asked       int64 // questions put, one per verb answered
	}{
		{name: "unanswered twice, then granted", failing: 2, granted: true, clusterWide: true, asked: 4},
		{name: "refused", failing: 0, granted: false, clusterWide: false, asked: 2},
		{name: "never answered", failing: -1, granted: true, clusterWide: false, asked: 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := cluster.Shared(t)
			a, b := cluster.Namespace(t, c), cluster.Namespace(t, c)
			seen := &requestlog.Log{}
			cfg := reader(t, c, a, b)
			if tc.granted {
				cfg = c.RESTConfig()
			}
			dyn := client(t, cfg, seen)
			u := &unanswered{n: tc.failing}
			askCfg := rest.CopyConfig(cfg)
			askCfg.Wrap(u.wrap)
			asker, err := dynamic.NewForConfig(askCfg)
			require.NoError(t, err)
			w := start(t, dyn, clusterwide.NewGrants(asker, 0, nil), []string{a, b})

			create(t, c, a, "one")
			w.await(t, a+"/one")
			require.Equal(t, tc.asked, u.asked.Load(), "questions put")
			if tc.clusterWide {
				require.Len(t, seen.Watches("/api/v1/configmaps"), 1, "one watch for every namespace")
				require.Empty(t, seen.Watches("/api/v1/namespaces/"), "no watch per namespace")
				return
			}
			require.Empty(t, seen.Requests("/api/v1/configmaps"), "nothing tried in every namespace")
			require.Len(t, seen.Watches("/api/v1/namespaces/"+a+"/configmaps"), 1)
			require.Len(t, seen.Watches("/api/v1/namespaces/"+b+"/configmaps"), 1)
		})
	}
}
