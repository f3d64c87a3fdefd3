package gitsource

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Commit is what people read about a commit: its subject line, author, and
// when it was committed.
type Commit struct {
	Subject string
	Author  string
	Email   string
	// Time is the committer's time: when the commit took its final form
	// (a rebase or an amend moves it), where a change's lead time starts.
	Time time.Time
}

// maxSubject bounds a subject kept for display.
const maxSubject = 200

// commitCache keeps read commits: they never change, and the status page
// and metrics ask about the same few dozen (the Versions' histories) on
// every render. It keeps two generations of commitCacheSize commits: one
// asked about in either is kept, the others go when a generation fills.
// So what it holds does not grow with the commits followed (starting over
// at 4,096, it held every commit of a thousand it was asked about), and
// the commits asked about again do not all go at once.
type commitCache struct {
	mu        sync.Mutex
	cur, prev map[plumbing.Hash]Commit
}

const commitCacheSize = 256

func (c *commitCache) get(h plumbing.Hash) (Commit, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if commit, ok := c.cur[h]; ok {
		return commit, true
	}
	commit, ok := c.prev[h]
	if ok {
		c.putLocked(h, commit)
	}
	return commit, ok
}

func (c *commitCache) put(h plumbing.Hash, commit Commit) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(h, commit)
}

func (c *commitCache) putLocked(h plumbing.Hash, commit Commit) {
	if c.cur == nil || len(c.cur) >= commitCacheSize {
		c.prev, c.cur = c.cur, make(map[plumbing.Hash]Commit, commitCacheSize)
	}
	c.cur[h] = commit
}

// CommitOf reads a commit of the clone, on the branch or not
// (ErrUnknownRevision when the clone does not hold it).
func (s *Source) CommitOf(sha string) (Commit, error) {
	h, ok := parseHash(sha)
	if !ok {
		return Commit{}, fmt.Errorf("%w: %q is not a full sha", ErrUnknownRevision, sha)
	}
	if c, ok := s.commits.get(h); ok {
		return c, nil
	}
	s.store.Lock()
	obj, err := object.GetCommit(s.repo.Storer, h)
	s.store.Unlock()
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return Commit{}, fmt.Errorf("%w: %s", ErrUnknownRevision, sha)
	}
	if err != nil {
		return Commit{}, fmt.Errorf("gitsource: read commit %s: %w", sha, err)
	}
	subject, _, _ := strings.Cut(strings.TrimSpace(obj.Message), "\n")
	if len(subject) > maxSubject {
		subject = subject[:maxSubject] + "…"
	}
	c := Commit{Subject: strings.TrimSpace(subject), Author: obj.Author.Name, Email: obj.Author.Email, Time: obj.Committer.When}
	s.commits.put(h, c)
	return c, nil
}
