package gitsource_test

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/sync/gitsource"
)

// Each fetch leaves a pack; past a few dozen they are merged, so that
// following a branch for 1,000 commits does not leave 1,000 packs. Trees
// taken before a merge still read after it.
func TestFetchesDoNotPileUpPacks(t *testing.T) {
	u := newUpstream(t)
	cache := t.TempDir()
	src := newSource(t, gitsource.Options{URL: u.url(), CacheDir: cache})
	first := u.commit("first", map[string]string{"team/cm.yaml": "n: first\n"})
	syncTo(t, src, first)
	early, err := src.Tree(first)
	require.NoError(t, err)

	shas := []string{first}
	for i := range 45 {
		shas = append(shas, u.commit(fmt.Sprint("commit ", i), map[string]string{
			"team/cm.yaml": fmt.Sprintf("n: %d\n", i), fmt.Sprintf("team/f%d.yaml", i%4): fmt.Sprintf("i: %d\n", i),
		}))
		syncTo(t, src, shas[len(shas)-1])
	}
	require.EqualValues(t, 46, src.Fetches())
	packs, err := filepath.Glob(filepath.Join(cache, "*", "objects", "pack", "*.pack"))
	require.NoError(t, err)
	require.LessOrEqual(t, len(packs), 32, "46 fetches, one pack each, merged past 32")

	got, err := fs.ReadFile(early, "team/cm.yaml")
	require.NoError(t, err)
	require.Equal(t, "n: first\n", string(got))
	for i, sha := range shas[1:] {
		tree, err := src.Tree(sha)
		require.NoError(t, err)
		got, err := fs.ReadFile(tree, "team/cm.yaml")
		require.NoError(t, err)
		require.Equal(t, fmt.Sprintf("n: %d\n", i), string(got))
	}
	ok, err := src.IsAncestor(first, shas[len(shas)-1])
	require.NoError(t, err)
	require.True(t, ok)

	again := newSource(t, gitsource.Options{URL: u.url(), CacheDir: cache})
	syncTo(t, again, shas[len(shas)-1])
	require.EqualValues(t, 0, again.Fetches(), "the merged clone has every commit")
}

// Previews fetched through refs leave packs too.
func TestFetchedRefsDoNotPileUpPacks(t *testing.T) {
	u := newUpstream(t)
	cache := t.TempDir()
	src := newSource(t, gitsource.Options{URL: u.url(), CacheDir: cache})
	syncTo(t, src, u.commit("first", map[string]string{"team/cm.yaml": "n: first\n"}))
	for i := range 40 {
		sha := u.commit(fmt.Sprint("preview ", i), map[string]string{"team/cm.yaml": fmt.Sprintf("n: %d\n", i)})
		ref := fmt.Sprintf("refs/pull/%d/head", i)
		u.git(u.work, "push", "--quiet", "origin", "HEAD:"+ref)
		got, err := src.FetchRef(context.Background(), ref)
		require.NoError(t, err)
		require.Equal(t, sha, got)
	}
	packs, err := filepath.Glob(filepath.Join(cache, "*", "objects", "pack", "*.pack"))
	require.NoError(t, err)
	require.LessOrEqual(t, len(packs), 32, "41 fetches, one pack each, merged past 32")
}

// A preview's fetch does not wait for a Sync under way: the packs it
// leaves are merged by the next fetch that finds the clone free.
func TestFetchRefDoesNotWaitForASync(t *testing.T) {
	u := newUpstream(t)
	src := newSource(t, gitsource.Options{URL: u.url(), CacheDir: t.TempDir()})
	first := u.commit("first", map[string]string{"team/cm.yaml": "n: first\n"})
	syncTo(t, src, first)
	sha := u.commit("preview", map[string]string{"team/cm.yaml": "n: preview\n"})
	u.git(u.work, "push", "--quiet", "origin", "HEAD:refs/pull/1/head")

	release := src.HoldSync()
	defer release()
	for ref, want := range map[string]string{"refs/pull/1/head": sha, first: first} { // fetched; known already
		got := make(chan string, 1)
		go func() {
			head, err := src.FetchRef(context.Background(), ref)
			assert.NoError(t, err)
			got <- head
		}()
		select {
		case head := <-got:
			require.Equal(t, want, head)
		case <-time.After(30 * time.Second):
			t.Fatalf("FetchRef(%s) waited for the Sync under way", ref)
		}
	}
}
