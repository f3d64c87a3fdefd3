package soak

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/syncgate/syncgate/testing/cluster"
)

// Kind is what a commit does to the namespaces it touches.
type Kind string

// The commit kinds; a burst is several of the single kinds pushed back to
// back, a rollback a force-push of the branch back to an older commit.
const (
	Initial  Kind = "initial"
	Good     Kind = "good"
	Render   Kind = "render-refusal"
	API      Kind = "api-refusal"
	Crash    Kind = "crashloop"
	Prune    Kind = "prune-only"
	Comment  Kind = "comment-only"
	Rollback Kind = "rollback"
)

// Kinds in the order the report lists them.
var Kinds = []Kind{Initial, Good, Render, API, Crash, Prune, Comment, Rollback}

// Burst names the action that pushes several commits back to back, for
// Options.Kinds.
const Burst Kind = "burst"

// ParseKinds reads a comma-separated list of commit kinds (and "burst");
// "all" or "" is every kind.
func ParseKinds(s string) ([]Kind, error) {
	if s = strings.TrimSpace(s); s == "" || s == "all" {
		return nil, nil
	}
	out, bad, ok := splitNames(s, func(k Kind) bool { return k == Burst || (k != Initial && slices.Contains(Kinds, k)) })
	if !ok {
		return nil, fmt.Errorf("unknown commit kind %q (known: %v and burst)", bad, Kinds[1:])
	}
	return out, nil
}

// splitNames reads a comma-separated list of names; bad is the first one
// known refuses.
func splitNames[K ~string](s string, known func(K) bool) (names []K, bad K, ok bool) {
	for _, f := range strings.Split(s, ",") {
		k := K(strings.TrimSpace(f))
		if !known(k) {
			return nil, k, false
		}
		names = append(names, k)
	}
	return names, "", true
}

// FaultKind is one kind of injected trouble.
type FaultKind string

// The faults.
const (
	KillLeader    FaultKind = "kill-leader"
	KillFollower  FaultKind = "kill-follower"
	APIRestart    FaultKind = "apiserver-restart"
	GitDown       FaultKind = "git-down"
	S3Down        FaultKind = "s3-down"
	Forge5xx      FaultKind = "forge-5xx"
	Forge429      FaultKind = "forge-429"
	VersionDelete FaultKind = "version-deleted"
)

// FaultKinds are every fault, in the order the report lists them.
var FaultKinds = []FaultKind{KillLeader, KillFollower, APIRestart, GitDown, S3Down, Forge5xx, Forge429, VersionDelete}

// ParseFaults reads a comma-separated list of fault kinds; "all" or ""
// is every kind, "none" no fault.
func ParseFaults(s string) ([]FaultKind, error) {
	switch strings.TrimSpace(s) {
	case "", "all":
		return FaultKinds, nil
	case "none":
		return []FaultKind{}, nil
	}
	out, bad, ok := splitNames(s, func(k FaultKind) bool { return slices.Contains(FaultKinds, k) })
	if !ok {
		return nil, fmt.Errorf("unknown fault %q (known: %v)", bad, FaultKinds)
	}
	return out, nil
}

// Options configure a soak run.
type Options struct {
	// Cluster is the control plane to run on (required). Its API server is
	// restarted as a fault when its process can be found (Pids).
	Cluster *cluster.Cluster
	// Seed chooses the commits and the faults; the same seed gives the
	// same sequence of commits (and shas) and of faults.
	Seed int64
	// Commits is how many commits are pushed (rollbacks count as one).
	Commits int
	// Namespaces is the number of managed namespaces (1 or 2).
	Namespaces int
	// HealthTimeout is syncgate's HEALTH_TIMEOUT.
	HealthTimeout time.Duration
	// PollInterval is syncgate's GIT_SYNC_INTERVAL.
	PollInterval time.Duration
	// MaxDuration stops pushing once reached (0: no limit); what was pushed
	// is still settled and checked.
	MaxDuration time.Duration
	// FaultRate is the chance that a step gets a fault.
	FaultRate float64
	// Faults are the kinds injected (nil: all).
	Faults []FaultKind
	// Kinds are the commit kinds pushed, Burst and Rollback included (nil:
	// all); a seed reproduces a run with the same Kinds.
	Kinds []Kind
	// Binary is the syncgate binary; built into WorkDir when empty.
	Binary string
	// WorkDir holds logs, the repository and S3 data (required).
	WorkDir string
	// LogLevel is syncgate's LOG_LEVEL (default info).
	LogLevel string
	// Log receives a line per step; nil is quiet.
	Log io.Writer
}

func (o *Options) defaults() error {
	if o.Cluster == nil {
		return errors.New("soak: a cluster is required")
	}
	if o.WorkDir == "" {
		return errors.New("soak: a work dir is required")
	}
	if o.Commits <= 0 {
		o.Commits = 200
	}
	if o.Namespaces <= 0 {
		o.Namespaces = 2
	}
	if o.Namespaces > 2 {
		return errors.New("soak: at most 2 namespaces")
	}
	if o.HealthTimeout <= 0 {
		o.HealthTimeout = 30 * time.Second
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 2 * time.Second
	}
	if o.Faults == nil {
		o.Faults = FaultKinds
	}
	if o.LogLevel == "" {
		o.LogLevel = "info"
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	return nil
}
