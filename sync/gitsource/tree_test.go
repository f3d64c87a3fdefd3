package gitsource_test

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/sync/gitsource"
)

func TestTreeIsAnFS(t *testing.T) {
	up := newUpstream(t)
	up.write(map[string]string{
		"team/deploy.yaml":         "kind: Deployment\n",
		"team/a-b.yaml":            "dash\n",
		"team/a/nested.yaml":       "nested\n",
		"team/a.yaml":              "dot\n",
		"base/cm.yaml":             "kind: ConfigMap\n",
		"base/deeper/x.yml":        "x\n",
		"prod/team/web.deployment": "1.2.3\n",
	})
	up.symlink("../base", "team/shared")
	up.symlink("deploy.yaml", "team/alias.yaml")
	require.NoError(t, os.WriteFile(filepath.Join(up.work, "run.sh"), []byte("#!/bin/sh\n"), 0o755))
	sha := up.commit("tree", nil)
	src := newSource(t, gitsource.Options{URL: up.url()})
	syncTo(t, src, sha)
	tree, err := src.Tree(sha)
	require.NoError(t, err)

	require.NoError(t, fstest.TestFS(tree,
		"team/deploy.yaml", "team/a/nested.yaml", "team/shared/cm.yaml", "team/shared/deeper/x.yml",
		"team/alias.yaml", "base/cm.yaml", "prod/team/web.deployment", "run.sh"))

	entries, err := fs.ReadDir(tree, "team")
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	// git orders "a" as "a/", after "a-b.yaml" and "a.yaml"; fs wants names.
	require.Equal(t, []string{"a", "a-b.yaml", "a.yaml", "alias.yaml", "deploy.yaml", "shared"}, names)
	require.True(t, entries[0].IsDir())
	require.True(t, entries[5].IsDir(), "a symlink to a directory is listed as one")

	for _, tc := range []struct{ name, want string }{
		{"team/alias.yaml", "kind: Deployment\n"},
		{"team/shared/cm.yaml", "kind: ConfigMap\n"},
		{"team/shared/../a.yaml", ""}, // invalid path
	} {
		got, err := fs.ReadFile(tree, tc.name)
		if tc.want == "" {
			require.ErrorIs(t, err, fs.ErrInvalid)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, tc.want, string(got))
	}

	f, err := tree.Open("team/deploy.yaml")
	require.NoError(t, err)
	st, err := f.Stat()
	require.NoError(t, err)
	require.EqualValues(t, len("kind: Deployment\n"), st.Size())
	b, err := io.ReadAll(f)
	require.NoError(t, err)
	require.Equal(t, "kind: Deployment\n", string(b))
	require.NoError(t, f.Close())
	_, err = f.Read(make([]byte, 1))
	require.ErrorIs(t, err, fs.ErrClosed)

	_, err = fs.ReadFile(tree, "team/missing.yaml")
	require.ErrorIs(t, err, fs.ErrNotExist)
	_, err = fs.ReadFile(tree, "team/deploy.yaml/x")
	require.ErrorIs(t, err, fs.ErrNotExist)
	_, err = src.Tree(flip(sha))
	require.ErrorIs(t, err, gitsource.ErrUnknownRevision)
}

func TestTreeRefusesSymlinksLeavingTheRepo(t *testing.T) {
	up := newUpstream(t)
	up.write(map[string]string{"team/ok.yaml": "ok\n", "docs/readme": "hi\n"})
	up.symlink("/etc/passwd", "team/absolute.yaml")
	up.symlink("../../../etc/passwd", "team/dotdot.yaml")
	up.symlink("../..", "team/up")
	up.symlink("hop2", "team/hop1.yaml")
	up.symlink("../escape.yaml", "team/hop2")
	up.symlink("../../outside.yaml", "escape.yaml")
	up.symlink("loop-b", "team/loop-a.yaml")
	up.symlink("loop-a.yaml", "team/loop-b")
	up.symlink("gone.yaml", "team/dangling.yaml")
	sha := up.commit("links", nil)
	src := newSource(t, gitsource.Options{URL: up.url()})
	syncTo(t, src, sha)
	tree, err := src.Tree(sha)
	require.NoError(t, err)

	cases := []struct {
		name   string
		escape bool
		msg    string
	}{
		{"team/absolute.yaml", true, "team/absolute.yaml -> /etc/passwd"},
		{"team/dotdot.yaml", true, "team/dotdot.yaml -> ../../../etc/passwd"},
		{"team/up/etc/passwd", true, "team/up -> ../.."},
		{"team/hop1.yaml", true, "escape.yaml -> ../../outside.yaml"},
		{"team/loop-a.yaml", false, "too many levels of symbolic links"},
		{"team/dangling.yaml", false, "file does not exist"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := fs.ReadFile(tree, tc.name)
			require.Error(t, err)
			if tc.escape {
				require.ErrorIs(t, err, gitsource.ErrSymlinkEscape)
			}
			require.ErrorContains(t, err, tc.msg)
			// The commit's fault, told apart from a store that failed.
			require.True(t, errors.Is(err, fs.ErrInvalid) || errors.Is(err, fs.ErrNotExist), "%v", err)
			_, err = tree.Open(tc.name)
			require.ErrorContains(t, err, tc.msg)
		})
	}

	// The directory still lists: its bad links show as symlinks, and only
	// reading them fails.
	entries, err := fs.ReadDir(tree, "team")
	require.NoError(t, err)
	modes := map[string]fs.FileMode{}
	for _, e := range entries {
		modes[e.Name()] = e.Type()
	}
	require.Equal(t, fs.ModeSymlink, modes["team/absolute.yaml"[len("team/"):]])
	require.Equal(t, fs.ModeSymlink, modes["up"])
	require.Equal(t, fs.FileMode(0), modes["ok.yaml"])
}

// A file too large to hold is refused when read, whole or in parts, and
// still listed and sized; one of exactly the limit is read.
func TestTreeRefusesFilesTooLargeToRead(t *testing.T) {
	up := newUpstream(t)
	sha := up.commit("big", map[string]string{
		"team/limit.yaml": strings.Repeat("a", gitsource.MaxInMemory),
		"team/over.yaml":  strings.Repeat("a", gitsource.MaxInMemory+1),
	})
	src := newSource(t, gitsource.Options{URL: up.url()})
	syncTo(t, src, sha)
	tree, err := src.Tree(sha)
	require.NoError(t, err)

	b, err := fs.ReadFile(tree, "team/limit.yaml")
	require.NoError(t, err)
	require.Len(t, b, gitsource.MaxInMemory)

	st, err := fs.Stat(tree, "team/over.yaml")
	require.NoError(t, err)
	require.EqualValues(t, gitsource.MaxInMemory+1, st.Size())
	_, err = fs.ReadFile(tree, "team/over.yaml")
	require.ErrorIs(t, err, gitsource.ErrTooLarge)
	require.ErrorIs(t, err, fs.ErrInvalid, "the commit's fault, not the store's")
	require.ErrorContains(t, err, "team/over.yaml")
	f, err := tree.Open("team/over.yaml")
	require.NoError(t, err)
	_, err = f.Read(make([]byte, 10))
	require.ErrorIs(t, err, gitsource.ErrTooLarge)
	require.NoError(t, f.Close())
}

// Hash names what a path leads to: the same id in two commits means the
// same content, symlinks followed.
func TestTreeHashFollowsLinksAndTellsChanges(t *testing.T) {
	up := newUpstream(t)
	up.write(map[string]string{"team/cm.yaml": "a\n", "base/x.yaml": "x1\n", "other/y.yaml": "y\n"})
	up.symlink("../base/x.yaml", "team/link.yaml")
	first := up.commit("first", nil)
	second := up.commit("base changed", map[string]string{"base/x.yaml": "x2\n"})
	src := newSource(t, gitsource.Options{URL: up.url()})
	syncTo(t, src, second)
	hash := func(sha, name string) string {
		tree, err := src.Tree(sha)
		require.NoError(t, err)
		h, err := tree.(interface{ Hash(string) (string, error) }).Hash(name)
		require.NoError(t, err)
		require.Len(t, h, 40)
		return h
	}
	require.Equal(t, hash(first, "team/cm.yaml"), hash(second, "team/cm.yaml"))
	require.Equal(t, hash(first, "other"), hash(second, "other"))
	require.Equal(t, hash(first, "team"), hash(second, "team"), "the team tree itself is unchanged")
	require.NotEqual(t, hash(first, "team/link.yaml"), hash(second, "team/link.yaml"), "the link's target changed")
	require.Equal(t, hash(second, "base/x.yaml"), hash(second, "team/link.yaml"))

	tree, err := src.Tree(second)
	require.NoError(t, err)
	_, err = tree.(interface{ Hash(string) (string, error) }).Hash("team/gone.yaml")
	require.ErrorIs(t, err, fs.ErrNotExist)
}
