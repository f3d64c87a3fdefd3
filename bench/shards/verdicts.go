package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
)

// verdicts follows every Version as it is written: a commit's final
// verdict in a namespace (deployed or failed, its own or its carrier's)
// must never change once seen, and no Version may hold two entries for
// one commit.
type verdicts struct {
	mu            sync.Mutex
	final         map[string]status.State // namespace/sha → verdict first seen
	contradicted  []string
	recordedTwice []string
}

func newVerdicts() *verdicts { return &verdicts{final: map[string]status.State{}} }

func (vs *verdicts) note(v *version.Version, _ time.Time) {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	seen := map[string]bool{}
	for _, c := range v.Status.History {
		key := v.Namespace + "/" + status.ShortSHA(c.SHA)
		if seen[c.SHA] {
			vs.recordedTwice = append(vs.recordedTwice, key)
		}
		seen[c.SHA] = true
		verdict := finalVerdict(c)
		if verdict == "" {
			continue
		}
		if was, ok := vs.final[key]; ok && was != verdict {
			vs.contradicted = append(vs.contradicted, fmt.Sprintf("%s %s then %s", key, was, verdict))
		} else if !ok {
			vs.final[key] = verdict
		}
	}
}

// finalVerdict is c's final answer, "" while it has none (in progress, or
// superseded by a commit not yet done).
func finalVerdict(c version.Commit) status.State {
	switch {
	case c.State == status.Deployed || c.State == status.Failed:
		return c.State
	case c.State == status.Superseded:
		return c.Outcome
	}
	return ""
}

// problems are the verdicts seen changing and the commits seen recorded
// twice in one Version, so far.
func (vs *verdicts) problems() (contradicted, twice []string) {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	return append([]string(nil), vs.contradicted...), append([]string(nil), vs.recordedTwice...)
}

// ledger is what the Versions hold in the end for a scenario's commits.
type ledger struct {
	entries  int // (namespace, commit) pairs checked
	deployed int // of them, with one entry whose verdict is deployed
	missing  []string
	twice    []string
	other    []string // one entry, not deployed
}

// checkVersions reads every namespace's Version and checks each of shas
// has exactly one history entry there, deployed.
func (w *world) checkVersions(ctx context.Context, shas []string) (ledger, error) {
	var l ledger
	store := version.NewStore(w.dyn)
	for _, ns := range w.namespaces {
		v, err := store.Get(ctx, ns)
		if err != nil {
			return l, err
		}
		for _, sha := range shas {
			l.entries++
			var found []version.Commit
			for _, c := range v.Status.History {
				if c.SHA == sha {
					found = append(found, c)
				}
			}
			key := ns + "/" + status.ShortSHA(sha)
			switch {
			case len(found) == 0:
				l.missing = append(l.missing, key)
			case len(found) > 1:
				l.twice = append(l.twice, key)
			case finalVerdict(found[0]) != status.Deployed:
				l.other = append(l.other, fmt.Sprintf("%s %s/%s", key, found[0].State, found[0].Outcome))
			default:
				l.deployed++
			}
		}
	}
	return l, nil
}

// askWait asks every live replica's /wait for each of shas over all
// namespaces until a final answer, and counts the answers by HTTP status.
func askWait(ctx context.Context, live []*replica, shas []string) (map[int]int, error) {
	codes := map[int]int{}
	for _, r := range live {
		for _, sha := range shas {
			code, err := finalAnswer(ctx, r.URL, sha)
			if err != nil {
				return codes, fmt.Errorf("%s: %w", r.name, err)
			}
			codes[code]++
		}
	}
	return codes, nil
}

func finalAnswer(ctx context.Context, url, sha string) (int, error) {
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/wait/"+sha+"?timeout=20s", nil)
		if err != nil {
			return 0, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusServiceUnavailable {
			return resp.StatusCode, nil
		}
	}
	return 0, fmt.Errorf("no final answer for %s", status.ShortSHA(sha))
}
