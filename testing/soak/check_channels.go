package soak

// What S3 and the forge were told, compared with the answers.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/s3marker"
	"github.com/syncgate/syncgate/status/version"
)

// retry runs fn until it returns "" or 3s have passed, and returns its
// last complaint: the cluster or a report may still be settling.
func retry(ctx context.Context, fn func() string) string {
	deadline := time.Now().Add(3 * time.Second)
	for {
		msg := fn()
		if msg == "" || time.Now().After(deadline) || ctx.Err() != nil {
			return msg
		}
		sleep(ctx, 250*time.Millisecond)
	}
}

// ranIt reports whether the namespace's applied commit is the incarnation's
// sha: a rollback to it is not applied again.
func ranIt(v *version.Version, in *inc) bool { return v != nil && v.Status.Applied == in.sha }

func (s *soak) checkS3(ctx context.Context, in *inc, ns, want string, alreadyApplied bool) {
	key := s3marker.ResultKey("", clusterName, ns, in.sha)
	msg := retry(ctx, func() string {
		res, err := s3marker.ReadResult(ctx, s.e.s3.Client(), bucket, key)
		switch {
		case errors.Is(err, s3marker.ErrNotFound):
			return "no _result object"
		case err != nil:
			return "unreadable: " + err.Error()
		case string(res.Effective()) != want:
			return fmt.Sprintf("_result says %s (outcome %q, %s), /wait %s", res.State, res.Outcome, oneLine(res.Reason), want)
		case in.rollback && !alreadyApplied && res.FinishedAt != nil && res.FinishedAt.Before(in.pushedAt.Add(-2*time.Second)):
			return fmt.Sprintf("_result still from before the force-push (finished %s)", res.FinishedAt.Format("15:04:05"))
		}
		return ""
	})
	if msg != "" {
		s.violate(in, ns, "s3", msg)
	}
}

func forgeState(state string) string {
	if state == string(status.Deployed) {
		return "success"
	}
	return "failure"
}

func (s *soak) checkForge(in *inc, ns, want string) {
	ctxName := statusContext(ns)
	msg := retry(s.ctx, func() string {
		last, ok := s.e.gh.Latest(repoName, in.sha, ctxName)
		switch {
		case !ok:
			return "no commit status"
		case last.State != forgeState(want):
			return fmt.Sprintf("final status %s %q, /wait %s", last.State, last.Description, want)
		}
		return ""
	})
	if msg != "" {
		s.violate(in, ns, "forge", msg)
	}
	var mine []string
	n := 0
	seen := map[string]int{}
	var repeats []string
	for _, st := range s.e.gh.Statuses(repoName, in.sha) {
		if st.Context != ctxName {
			continue
		}
		n++
		if n <= in.base[ns] {
			continue
		}
		k := st.State + " " + st.Description
		mine = append(mine, k)
		if seen[k]++; seen[k] == 2 {
			repeats = append(repeats, fmt.Sprintf("%q", k))
		}
	}
	if len(repeats) > 0 {
		s.violate(in, ns, "forge-repeat", fmt.Sprintf("the same status posted again: %s (all: %s)", strings.Join(repeats, ", "), strings.Join(mine, " | ")))
	}
	if len(mine) > maxStatuses {
		s.violate(in, ns, "forge-count", fmt.Sprintf("%d statuses (at most %d)", len(mine), maxStatuses))
	}
}
