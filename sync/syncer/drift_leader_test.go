package syncer

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/client-go/tools/record"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/testing/gittree"
)

// A drift correction's re-applied objects unsettle the namespace for the
// leader that takes over too: its first commit, with the same inputs,
// waits for every object, and is deployed only once the re-applied one is
// ready again. Before, the note was in the old leader's memory only, and
// the new leader recorded that commit deployed at once, waiting for
// nothing.
func TestANewLeaderKeepsTheNamespaceUnsettledByDrift(t *testing.T) {
	files := map[string]string{"web/cm-a": "1", "web/cm-b": "1", "other/x": "1"}
	src := &commits{head: "a", trees: map[string]gittree.Tree{}}
	src.add("a", files)
	files["other/x"] = "2"
	src.add("c", files)
	store := &memStore{v: map[string]*version.Version{}}
	parts := &drifting{
		counted: &counted{fail: map[string]bool{}},
		armed:   make(chan struct{}), drifted: make(chan struct{}),
		open: make(chan struct{}), waiting: make(chan struct{}),
	}
	leader := func(drift time.Duration, events *record.FakeRecorder) *Syncer {
		s, err := New(Options{
			Cluster: "c", Namespaces: []string{"web"}, Source: src,
			Renderer: parts, Applier: parts, Readiness: parts, Store: store,
			Events: events, RetryInterval: 10 * time.Millisecond, RetryBudget: time.Minute,
			DriftInterval: drift,
		})
		require.NoError(t, err)
		return s
	}
	events := record.NewFakeRecorder(1000)
	cancel, ran := runCancellable(t, leader(time.Millisecond, events))
	h := &harness{t: t, store: store}
	h.eventually("a", status.Deployed)
	close(parts.armed)
	await(t, parts.drifted, "a drift correction re-applied cm-a")
	for corrected := false; !corrected; {
		select {
		case e := <-events.Events:
			corrected = strings.Contains(e, "DriftCorrected")
		case <-time.After(5 * time.Second):
			t.Fatal("no DriftCorrected event")
		}
	}
	cancel()
	await(t, ran, "the first leader stopped")

	s := leader(0, record.NewFakeRecorder(1000))
	ctx := runUntilEnd(t, s)
	src.push(ctx, s, "c")
	parts.requireHeldUp(t, h, "c")
	require.Nil(t, store.get("web").UnsettledSince, "judged by that wait")
}
