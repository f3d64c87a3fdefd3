package server

import (
	"context"
	"strings"
	"sync"

	"github.com/syncgate/syncgate/status/version"
)

// linearRepo is a branch of commits, oldest first.
type linearRepo struct {
	mu      sync.Mutex
	commits []string
	hidden  []string // appear after a Sync, as a fetch would bring them
	syncs   int
	ended   chan struct{} // closed when a fetch ends, then replaced
	// fetch, when set, runs first in every Sync: a slow or failing remote.
	fetch func(context.Context) error
}

func (r *linearRepo) index(sha string) int {
	for i, c := range r.commits {
		if c == sha {
			return i
		}
	}
	return -1
}
func (r *linearRepo) IsAncestor(a, b string) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ia, ib := r.index(a), r.index(b)
	return ia >= 0 && ib >= 0 && ia <= ib, nil
}
func (r *linearRepo) OnBranch(sha string) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.index(sha) >= 0, nil
}
func (r *linearRepo) Resolve(p string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.commits {
		if strings.HasPrefix(c, p) {
			return c, nil
		}
	}
	return "", ErrUnknownSHA
}
func (r *linearRepo) Sync(ctx context.Context) (string, error) {
	r.mu.Lock()
	seen := r.hidden // what the remote has when the fetch begins
	r.hidden = nil
	r.mu.Unlock()
	if r.fetch != nil {
		if err := r.fetch(ctx); err != nil {
			r.mu.Lock()
			r.hidden = append(seen, r.hidden...)
			r.mu.Unlock()
			return "", err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.syncs++
	r.commits = append(r.commits, seen...)
	r.fetchEnded()
	return r.commits[len(r.commits)-1], nil
}

func (r *linearRepo) Fetched() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended == nil {
		r.ended = make(chan struct{})
	}
	return r.ended
}

// fetchEnded wakes those waiting for a fetch; r.mu is held.
func (r *linearRepo) fetchEnded() {
	if r.ended != nil {
		close(r.ended)
	}
	r.ended = make(chan struct{})
}

// fetchedElsewhere brings what the remote has, as a fetch the gateway did
// not ask for (the poll, a push webhook's) would.
func (r *linearRepo) fetchedElsewhere() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.commits = append(r.commits, r.hidden...)
	r.hidden = nil
	r.fetchEnded()
}

// push adds a commit to the remote: the next fetch brings it.
func (r *linearRepo) push(sha string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hidden = append(r.hidden, sha)
}

// memVersions is a Versions whose changes the test drives.
type memVersions struct {
	mu sync.Mutex
	v  map[string]*version.Version
	ch chan struct{}
}

func newMemVersions() *memVersions {
	return &memVersions{v: map[string]*version.Version{}, ch: make(chan struct{})}
}
func (m *memVersions) Get(ns string) *version.Version {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.v[ns]
}
func (m *memVersions) Changed() <-chan struct{} { m.mu.Lock(); defer m.mu.Unlock(); return m.ch }
func (m *memVersions) Synced() bool             { return true }
func (m *memVersions) set(ns string, st version.VersionStatus) {
	m.mu.Lock()
	m.v[ns] = &version.Version{Status: st}
	close(m.ch)
	m.ch = make(chan struct{})
	m.mu.Unlock()
}
