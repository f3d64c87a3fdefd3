package gitsource

import (
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"
)

// MaxMessage bounds the commit message Message returns; trailers that
// matter sit in its last lines, so a longer one keeps its end.
const MaxMessage = 64 << 10

// Message is the message of commit sha (a full sha in the clone), at most
// MaxMessage bytes of its end; ErrUnknownRevision when the clone lacks it.
func (s *Source) Message(sha string) (string, error) {
	h, ok := parseHash(sha)
	if !ok {
		return "", fmt.Errorf("%w: %q is not a full sha", ErrUnknownRevision, sha)
	}
	s.store.Lock()
	defer s.store.Unlock()
	c, err := s.getCommit(h)
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return "", fmt.Errorf("%w: %s", ErrUnknownRevision, sha)
	}
	if err != nil {
		return "", fmt.Errorf("gitsource: read commit %s: %w", sha, err)
	}
	msg := c.Message
	if len(msg) > MaxMessage {
		msg = msg[len(msg)-MaxMessage:]
	}
	return msg, nil
}
