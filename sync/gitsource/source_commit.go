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
// and metrics ask about the same few dozen on every render.
type commitCache struct {
	mu sync.Mutex
	m  map[plumbing.Hash]Commit
}

const commitCacheSize = 4096

// CommitOf reads a commit of the clone, on the branch or not
// (ErrUnknownRevision when the clone does not hold it).
func (s *Source) CommitOf(sha string) (Commit, error) {
	h, ok := parseHash(sha)
	if !ok {
		return Commit{}, fmt.Errorf("%w: %q is not a full sha", ErrUnknownRevision, sha)
	}
	s.commits.mu.Lock()
	c, ok := s.commits.m[h]
	s.commits.mu.Unlock()
	if ok {
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
	c = Commit{Subject: strings.TrimSpace(subject), Author: obj.Author.Name, Email: obj.Author.Email, Time: obj.Committer.When}
	s.commits.mu.Lock()
	if s.commits.m == nil || len(s.commits.m) >= commitCacheSize {
		s.commits.m = make(map[plumbing.Hash]Commit)
	}
	s.commits.m[h] = c
	s.commits.mu.Unlock()
	return c, nil
}
