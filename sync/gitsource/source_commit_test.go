package gitsource_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/sync/gitsource"
)

func TestCommitOf(t *testing.T) {
	u := newUpstream(t)
	first := u.commit("Deploy web 1.1.0 to local/demo\n\nThe body is not the subject.", map[string]string{"a.yaml": "a: 1\n"})
	long := u.commit(strings.Repeat("x", 300), map[string]string{"a.yaml": "a: 2\n"})
	src := newSource(t, gitsource.Options{URL: u.url()})
	syncTo(t, src, long)

	c, err := src.CommitOf(first)
	require.NoError(t, err)
	require.Equal(t, "Deploy web 1.1.0 to local/demo", c.Subject)
	require.Equal(t, "t", c.Author)
	require.Equal(t, "t@example.com", c.Email)
	when, err := time.Parse(time.RFC3339, u.git(u.work, "show", "-s", "--format=%cI", first))
	require.NoError(t, err)
	require.True(t, c.Time.Equal(when), "%s, want %s", c.Time, when)

	again, err := src.CommitOf(first)
	require.NoError(t, err)
	require.Equal(t, c, again)

	c, err = src.CommitOf(long)
	require.NoError(t, err)
	require.Equal(t, strings.Repeat("x", 200)+"…", c.Subject)

	_, err = src.CommitOf("0123456789abcdef0123456789abcdef01234567")
	require.True(t, errors.Is(err, gitsource.ErrUnknownRevision), "%v", err)
	_, err = src.CommitOf("0123456")
	require.True(t, errors.Is(err, gitsource.ErrUnknownRevision), "%v", err)
}

// Asked about each of a thousand commits as they are followed, and about
// one old commit all along (a Version's history on the status page), the
// commit cache holds a bounded number of them, the old one among them.
func TestCommitCacheDoesNotGrowWithTheCommitsFollowed(t *testing.T) {
	u := newUpstream(t)
	old := u.commit("old", map[string]string{"a.yaml": "a: 1\n"})
	shas := u.history(1000)
	src := newSource(t, gitsource.Options{URL: u.url()})
	syncTo(t, src, shas[len(shas)-1])
	for _, sha := range shas {
		_, err := src.CommitOf(sha)
		require.NoError(t, err)
		c, err := src.CommitOf(old)
		require.NoError(t, err)
		require.Equal(t, "old", c.Subject)
	}
	require.LessOrEqual(t, src.CommitsCached(), 512, "commits cached after 1,000 were read")
}
