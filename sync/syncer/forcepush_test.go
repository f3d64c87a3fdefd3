package syncer

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/lifecycle"
	"github.com/syncgate/syncgate/status/version"
)

// A commit begun (its render in transient trouble) and then pushed over by
// a force-push to a commit that does not hold it fails as dropped from the
// branch, with the report a failure owes, and the new head deploys alone.
// Before, it was carried by the new head and reported deployed by it,
// though none of its content ran.
func TestForcePushOverABegunCommitFailsIt(t *testing.T) {
	store := &memStore{v: map[string]*version.Version{}}
	var mu sync.Mutex
	rendered := map[string]int{}
	parts := &scripted{render: func(sha string) ([]*unstructured.Unstructured, error) {
		mu.Lock()
		defer mu.Unlock()
		rendered[sha]++
		if sha == "b" {
			return nil, errors.New("config repo: connection reset")
		}
		return []*unstructured.Unstructured{configMap("cm-" + sha)}, nil
	}}
	out := &owedLog{}
	h := start(t, store, "a", parts, readyAtOnce{}, func(o *Options) { o.Outbox = out })
	h.src.mu.Lock()
	h.src.pushedOver = func(head string) []string {
		if head == "c" {
			return []string{"b"} // c is a child of a without b
		}
		return nil
	}
	h.src.mu.Unlock()
	h.eventually("a", status.Deployed)

	h.push("b")
	h.eventually("b", status.Fetched)
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return rendered["b"] > 0 }, 5*time.Second, time.Millisecond, "b's render was tried")
	h.push("c")
	h.eventually("c", status.Deployed)

	st := store.get("web")
	want := lifecycle.ForcePushedReason("c", false)
	v := lifecycle.Judge("b", &st, nil)
	require.Equal(t, string(status.Failed), v.State, "%+v", v)
	require.Equal(t, want, v.Reason)
	require.Empty(t, v.CarriedBy)
	reports := out.of("b")
	require.NotEmpty(t, reports)
	require.Equal(t, status.Failed, reports[len(reports)-1].Effective(), "CI is told")
	require.Equal(t, want, reports[len(reports)-1].Reason)
	require.Equal(t, []string{"a", "c"}, parts.calls(), "b was never applied")
	require.Equal(t, "c", st.Deployed)
}
