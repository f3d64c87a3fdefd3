package syncer

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/client-go/tools/record"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/lifecycle"
	"github.com/syncgate/syncgate/status/version"
)

// A commit that wrote part of its objects under one leader, and is refused
// only under the next (its trouble outlasting RetryBudget there), leaves
// the applied commit restored as the old leader would have: what it wrote
// is in the Version, not in the old leader's memory. Before, the refusal
// restored only when the process that saw the part write refused it.
func TestANewLeaderRestoresAfterTheOldLeadersPartWrite(t *testing.T) {
	clk := newClock()
	parts := newPartWriter(errors.New("connection reset by peer"))
	out := &owedLog{}
	ready := newGate()
	ready.open["cm-a"] = true
	h := &harness{t: t, store: &memStore{v: map[string]*version.Version{}}, src: &movingHead{head: "a"}}
	leader := func() *Syncer {
		s, err := New(Options{
			Cluster: "c", Namespaces: []string{"web"}, Source: h.src,
			Renderer: parts.scripted, Applier: parts.scripted, Readiness: ready, Store: h.store, Outbox: out, Now: clk.Now,
			Events: record.NewFakeRecorder(1000), RetryInterval: 10 * time.Millisecond, RetryBudget: time.Minute,
		})
		require.NoError(t, err)
		return s
	}
	h.s = leader()
	cancel, ran := runCancellable(t, h.s)
	h.eventually("a", status.Deployed)
	aReports := len(out.of("a"))
	h.push("b")
	require.Eventually(t, func() bool { st := h.store.get("web"); return lifecycle.PartlyWritten(&st) }, 5*time.Second, time.Millisecond)
	cancel()
	await(t, ran, "the first leader stopped")
	h.eventually("b", status.Applying)

	h.s = leader()
	runUntilEnd(t, h.s)
	clk.advance(2 * time.Minute) // b's trouble outlasts RetryBudget
	h.eventually("b", status.Failed)
	parts.requireRestored(t, h, out, aReports)
}
