package gitsource_test

import (
	"context"
	"io/fs"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/sync/gitsource"
	"github.com/syncgate/syncgate/testing/gitserver"
)

// Real transports: smart HTTP with a token, SSH with a verified host key.
func TestRemoteOverHTTPAndSSH(t *testing.T) {
	const token = "s3cret-token-value"
	s := gitserver.StartT(t, gitserver.Options{Token: token, SSH: true})
	repo, err := s.CreateRepo("config")
	require.NoError(t, err)
	require.NoError(t, repo.Write(map[string]string{"team/cm.yaml": "kind: ConfigMap\n"}))
	first, err := repo.Commit("first")
	require.NoError(t, err)

	cases := []struct {
		name string
		opts gitsource.Options
	}{
		{"http with token", gitsource.Options{URL: s.HTTPURL("config"), Token: token}},
		{"ssh with known_hosts", gitsource.Options{URL: s.SSHURL("config"), SSHKeyPath: s.SSHKeyPath(), KnownHostsPath: s.KnownHostsPath()}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := newSource(t, tc.opts)
			syncTo(t, src, first)
			require.Equal(t, "main", src.Branch())
			require.EqualValues(t, 1, src.Fetches())
			syncTo(t, src, first)
			require.EqualValues(t, 1, src.Fetches(), "listed, not fetched")

			tree, err := src.Tree(first)
			require.NoError(t, err)
			b, err := fs.ReadFile(tree, "team/cm.yaml")
			require.NoError(t, err)
			require.Equal(t, "kind: ConfigMap\n", string(b))
		})
	}

	// One more commit, then each transport fetches it incrementally.
	require.NoError(t, repo.Write(map[string]string{"team/cm.yaml": "kind: ConfigMap # 2\n"}))
	second, err := repo.Commit("second")
	require.NoError(t, err)
	for _, tc := range cases {
		t.Run(tc.name+" incremental", func(t *testing.T) {
			src := newSource(t, tc.opts)
			syncTo(t, src, second)
			isAnc, err := src.IsAncestor(first, second)
			require.NoError(t, err)
			require.True(t, isAnc)
		})
	}

	refusals := []struct {
		name string
		opts gitsource.Options
	}{
		{"wrong token", gitsource.Options{URL: s.HTTPURL("config"), Token: "wrong-token-value"}},
		{"no token", gitsource.Options{URL: s.HTTPURL("config")}},
		{"unknown host key", gitsource.Options{URL: s.SSHURL("config"), SSHKeyPath: s.SSHKeyPath(),
			KnownHostsPath: gitserver.StartT(t, gitserver.Options{SSH: true}).KnownHostsPath()}},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			src := newSource(t, tc.opts)
			_, err := src.Sync(context.Background())
			require.ErrorIs(t, err, gitsource.ErrUnreachable)
			require.NotContains(t, err.Error(), token)
			require.NotContains(t, err.Error(), "wrong-token-value")
		})
	}

	t.Run("ssh without known_hosts is refused up front", func(t *testing.T) {
		_, err := gitsource.New(gitsource.Options{URL: s.SSHURL("config"), SSHKeyPath: s.SSHKeyPath(), CacheDir: t.TempDir()})
		require.ErrorContains(t, err, "known_hosts")
	})
	t.Run("insecure ignore host key", func(t *testing.T) {
		src := newSource(t, gitsource.Options{URL: s.SSHURL("config"), SSHKeyPath: s.SSHKeyPath(), InsecureIgnoreHostKey: true})
		syncTo(t, src, second)
	})
}
