package gitsource_test

import (
	"context"
	"io/fs"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/sync/gitsource"
	"github.com/syncgate/syncgate/testing/gitserver"
)

func startServer(t *testing.T, opts gitserver.Options) *gitserver.Server {
	t.Helper()
	s, err := gitserver.Start(context.Background(), opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func newRepo(t *testing.T, s *gitserver.Server) *gitserver.Repo {
	t.Helper()
	r, err := s.CreateRepo("config")
	require.NoError(t, err)
	return r
}

func commit(t *testing.T, r *gitserver.Repo, files map[string]string) string {
	t.Helper()
	require.NoError(t, r.Write(files))
	sha, err := r.Commit("change")
	require.NoError(t, err)
	return sha
}

func TestFollowsTheBranchOverHTTPAndSSH(t *testing.T) {
	s := startServer(t, gitserver.Options{Token: "s3cret", SSH: true})
	r := newRepo(t, s)
	first := commit(t, r, map[string]string{"team/deploy.yaml": "kind: ConfigMap\n"})

	cases := []struct {
		name string
		opts gitsource.Options
	}{
		{"https with token", gitsource.Options{URL: s.HTTPURL("config"), Token: "s3cret"}},
		{"ssh with known_hosts", gitsource.Options{URL: s.SSHURL("config"), SSHKeyPath: s.SSHKeyPath(), KnownHostsPath: s.KnownHostsPath()}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.CacheDir = t.TempDir()
			src, err := gitsource.New(tc.opts)
			require.NoError(t, err)
			ctx := context.Background()

			head, err := src.Sync(ctx)
			require.NoError(t, err)
			require.Equal(t, first, head)
			require.Equal(t, "main", src.Branch(), "the remote's HEAD")
			require.EqualValues(t, 1, src.Fetches())

			_, err = src.Sync(ctx)
			require.NoError(t, err)
			require.EqualValues(t, 1, src.Fetches(), "no fetch when the remote did not move")

			tree, err := src.Tree(head)
			require.NoError(t, err)
			b, err := fs.ReadFile(tree, "team/deploy.yaml")
			require.NoError(t, err)
			require.Equal(t, "kind: ConfigMap\n", string(b))
		})
	}
	t.Run("wrong token", func(t *testing.T) {
		src, err := gitsource.New(gitsource.Options{URL: s.HTTPURL("config"), Token: "nope", CacheDir: t.TempDir()})
		require.NoError(t, err)
		_, err = src.Sync(context.Background())
		require.ErrorIs(t, err, gitsource.ErrUnreachable)
	})
	t.Run("unknown ssh host key", func(t *testing.T) {
		other := startServer(t, gitserver.Options{SSH: true})
		src, err := gitsource.New(gitsource.Options{URL: s.SSHURL("config"), SSHKeyPath: s.SSHKeyPath(), KnownHostsPath: other.KnownHostsPath(), CacheDir: t.TempDir()})
		require.NoError(t, err)
		_, err = src.Sync(context.Background())
		require.ErrorIs(t, err, gitsource.ErrUnreachable)
	})
	t.Run("ssh without known_hosts is refused", func(t *testing.T) {
		_, err := gitsource.New(gitsource.Options{URL: s.SSHURL("config"), SSHKeyPath: s.SSHKeyPath(), CacheDir: t.TempDir()})
		require.ErrorContains(t, err, "known_hosts")
	})
}

func TestHistoryForcePushAndBranchLoss(t *testing.T) {
	s := startServer(t, gitserver.Options{})
	r := newRepo(t, s)
	a := commit(t, r, map[string]string{"ns/a.yaml": "a"})
	b := commit(t, r, map[string]string{"ns/b.yaml": "b"})
	c := commit(t, r, map[string]string{"ns/c.yaml": "c"})

	src, err := gitsource.New(gitsource.Options{URL: s.HTTPURL("config"), Branch: "main", CacheDir: t.TempDir()})
	require.NoError(t, err)
	ctx := context.Background()
	head, err := src.Sync(ctx)
	require.NoError(t, err)
	require.Equal(t, c, head)

	for _, tc := range []struct {
		a, b string
		want bool
	}{{a, c, true}, {b, c, true}, {c, c, true}, {c, a, false}, {b, a, false}} {
		got, err := src.IsAncestor(tc.a, tc.b)
		require.NoError(t, err)
		require.Equal(t, tc.want, got, "%s ancestor of %s", tc.a[:7], tc.b[:7])
	}
	full, err := src.Resolve(b[:7])
	require.NoError(t, err)
	require.Equal(t, b, full)
	_, err = src.Resolve("0000000")
	require.ErrorIs(t, err, gitsource.ErrUnknownRevision)
	_, err = src.Resolve("xyz")
	require.ErrorIs(t, err, gitsource.ErrUnknownRevision)

	between, err := src.Commits(a, c)
	require.NoError(t, err)
	require.Equal(t, []string{b, c}, between)

	// Force-push the branch back to a, then onto a new commit.
	require.NoError(t, r.ResetHard(a))
	d := commit(t, r, map[string]string{"ns/d.yaml": "d"})
	head, err = src.Sync(ctx)
	require.NoError(t, err)
	require.Equal(t, d, head)
	on, err := src.OnBranch(c)
	require.NoError(t, err)
	require.False(t, on, "c was dropped by the force-push")
	_, err = src.Resolve(c[:10])
	require.ErrorIs(t, err, gitsource.ErrUnknownRevision)

	// The branch disappears: error, head kept.
	require.NoError(t, r.Write(map[string]string{"x": "x"}))
	src2, err := gitsource.New(gitsource.Options{URL: s.HTTPURL("config"), Branch: "release", CacheDir: t.TempDir()})
	require.NoError(t, err)
	_, err = src2.Sync(ctx)
	require.ErrorIs(t, err, gitsource.ErrBranchGone)
	require.Equal(t, d, src.Head())

	// The server goes away: unreachable, head kept.
	require.NoError(t, s.Close())
	_, err = src.Sync(ctx)
	require.ErrorIs(t, err, gitsource.ErrUnreachable)
	require.Equal(t, d, src.Head())
}

func TestTreeFollowsSymlinksInsideOnly(t *testing.T) {
	s := startServer(t, gitserver.Options{})
	r := newRepo(t, s)
	require.NoError(t, r.Write(map[string]string{"base/cm.yaml": "kind: ConfigMap\n"}))
	require.NoError(t, r.Symlink("../base", "team/shared"))
	require.NoError(t, r.Symlink("../../../etc/passwd", "team/evil.yaml"))
	sha, err := r.Commit("links")
	require.NoError(t, err)

	src, err := gitsource.New(gitsource.Options{URL: s.HTTPURL("config"), CacheDir: t.TempDir()})
	require.NoError(t, err)
	_, err = src.Sync(context.Background())
	require.NoError(t, err)
	tree, err := src.Tree(sha)
	require.NoError(t, err)

	b, err := fs.ReadFile(tree, "team/shared/cm.yaml")
	require.NoError(t, err)
	require.Equal(t, "kind: ConfigMap\n", string(b))
	_, err = fs.ReadFile(tree, "team/evil.yaml")
	require.ErrorIs(t, err, gitsource.ErrSymlinkEscape)
	require.ErrorContains(t, err, "team/evil.yaml")

	entries, err := fs.ReadDir(tree, "base")
	require.NoError(t, err)
	require.Len(t, entries, 1)
	require.Equal(t, "cm.yaml", entries[0].Name())
}
