package version

import (
	"time"

	"github.com/syncgate/syncgate/status"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MaxFailedBefore bounds FailedBefore (41 bytes each stored).
const MaxFailedBefore = 1000

// MaxHistory bounds History; the applied and deployed commits and those an
// owed report still speaks of are kept beyond it.
const MaxHistory = 50

// Record upserts c into History by sha. A new commit goes first (History is
// newest first); a known one is updated where it stands, keeping the fetch
// and apply times c leaves unset and what sinks keep of it (the outbox
// writes those). History is then trimmed as Upsert does.
func (st *VersionStatus) Record(c Commit) {
	old := st.Upsert(c.SHA)
	if c.FetchedAt == nil {
		c.FetchedAt = old.FetchedAt
	}
	if c.AppliedAt == nil {
		c.AppliedAt = old.AppliedAt
	}
	if c.SinkRefs == nil {
		c.SinkRefs = old.SinkRefs
	}
	*old = c
}

// Upsert returns the History entry of sha, adding an empty one first if
// there is none. History is then trimmed from the oldest end to
// MaxHistory, sparing the newest entry, the applied and deployed commits,
// and commits an owed report still speaks of.
func (st *VersionStatus) Upsert(sha string) *Commit {
	if c := st.Find(sha); c != nil {
		return c
	}
	st.History = append([]Commit{{SHA: sha}}, st.History...)
	st.trimHistory()
	return &st.History[0]
}

func (st *VersionStatus) trimHistory() {
	excess := len(st.History) - MaxHistory
	if excess <= 0 {
		return
	}
	keep := make(map[string]bool, len(st.Owed)+2)
	for _, o := range st.Owed {
		keep[o.SHA] = true
	}
	keep[st.Applied], keep[st.Deployed] = true, true
	// Walk from the oldest end, dropping unreferenced entries until enough
	// are gone; what is kept stays in order, the newest first.
	drop := make([]bool, len(st.History))
	for i := len(st.History) - 1; i > 0 && excess > 0; i-- {
		if !keep[st.History[i].SHA] {
			drop[i] = true
			excess--
		}
	}
	kept := st.History[:0]
	for i, c := range st.History {
		if !drop[i] {
			kept = append(kept, c)
		} else if c.State == status.Failed || (c.State == status.Superseded && c.Outcome == status.Failed) {
			st.FailedBefore = append(st.FailedBefore, c.SHA)
		}
	}
	if n := len(st.FailedBefore) - MaxFailedBefore; n > 0 {
		st.FailedBefore = append(st.FailedBefore[:0], st.FailedBefore[n:]...)
	}
	clear(st.History[len(kept):])
	st.History = kept
}

// Find returns the History entry of sha (full form), or nil; the pointer
// may be used to change the entry in place.
func (st *VersionStatus) Find(sha string) *Commit {
	if sha == "" {
		return nil
	}
	for i := range st.History {
		if st.History[i].SHA == sha {
			return &st.History[i]
		}
	}
	return nil
}

// SetCondition sets or updates a condition, moving its transition time only
// when its status changes; it reports whether anything changed.
func (st *VersionStatus) SetCondition(c metav1.Condition) bool {
	return meta.SetStatusCondition(&st.Conditions, c)
}

// Condition returns the condition of the given type, or nil.
func (st *VersionStatus) Condition(conditionType string) *metav1.Condition {
	return meta.FindStatusCondition(st.Conditions, conditionType)
}

// Stamp is t in whole seconds and UTC, as the API server stores times, so a
// status reads the same before and after a round trip; nil when t is zero.
func Stamp(t time.Time) *metav1.Time {
	if t.IsZero() {
		return nil
	}
	mt := metav1.NewTime(t.UTC().Truncate(time.Second))
	return &mt
}
