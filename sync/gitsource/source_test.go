package gitsource_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/sync/gitsource"
)

func TestSyncFetchesOnlyWhenTheBranchMoves(t *testing.T) {
	up := newUpstream(t)
	a := up.commit("a", map[string]string{"team/cm.yaml": "a\n"})
	cache := t.TempDir()
	src := newSource(t, gitsource.Options{URL: up.url(), CacheDir: cache})
	ctx := context.Background()

	syncTo(t, src, a)
	require.Equal(t, "main", src.Branch(), "the branch the remote's HEAD names")
	require.EqualValues(t, 1, src.Fetches(), "first Sync clones")

	syncTo(t, src, a)
	require.EqualValues(t, 1, src.Fetches(), "nothing moved: listed, not fetched")

	b := up.commit("b", map[string]string{"team/cm.yaml": "b\n"})
	syncTo(t, src, b)
	require.EqualValues(t, 2, src.Fetches())
	require.Equal(t, b, src.Head())

	// A restart reuses the clone: the head is already there, no fetch.
	again := newSource(t, gitsource.Options{URL: up.url(), CacheDir: cache})
	syncTo(t, again, b)
	require.EqualValues(t, 0, again.Fetches())
	tree, err := again.Tree(a)
	require.NoError(t, err)
	got, err := fs.ReadFile(tree, "team/cm.yaml")
	require.NoError(t, err)
	require.Equal(t, "a\n", string(got))

	_, err = src.Sync(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 2, src.Fetches())
}

func TestForcePushIsFollowed(t *testing.T) {
	up := newUpstream(t)
	a := up.commit("a", map[string]string{"f": "a"})
	b := up.commit("b", map[string]string{"f": "b"})
	c := up.commit("c", map[string]string{"f": "c"})
	src := newSource(t, gitsource.Options{URL: up.url()})
	syncTo(t, src, c)

	up.resetTo(a)
	d := up.commit("d", map[string]string{"f": "d"})
	syncTo(t, src, d)
	require.EqualValues(t, 2, src.Fetches())

	for _, tc := range []struct {
		sha  string
		want bool
	}{{a, true}, {d, true}, {b, false}, {c, false}} {
		on, err := src.OnBranch(tc.sha)
		require.NoError(t, err)
		require.Equal(t, tc.want, on, "OnBranch(%s)", tc.sha[:7])
	}
	_, err := src.Resolve(c[:10])
	require.ErrorIs(t, err, gitsource.ErrUnknownRevision, "dropped by the force-push")
	got, err := src.Resolve(d[:7])
	require.NoError(t, err)
	require.Equal(t, d, got)

	// Dropped commits are still known to ancestry and Commits.
	isAnc, err := src.IsAncestor(b, c)
	require.NoError(t, err)
	require.True(t, isAnc)
	isAnc, err = src.IsAncestor(c, d)
	require.NoError(t, err)
	require.False(t, isAnc)
	between, err := src.Commits(c, d)
	require.NoError(t, err)
	require.Equal(t, []string{d}, between, "up to what the previous head contains")

	// Back to c, which the clone has: followed without a fetch.
	up.resetTo(c)
	up.push()
	syncTo(t, src, c)
	require.EqualValues(t, 2, src.Fetches())
	on, err := src.OnBranch(d)
	require.NoError(t, err)
	require.False(t, on)
}

func TestBranchGoneKeepsTheHead(t *testing.T) {
	up := newUpstream(t)
	up.commit("a", map[string]string{"f": "a"})
	up.branch = "release"
	rel := up.commit("r", map[string]string{"f": "r"})
	src := newSource(t, gitsource.Options{URL: up.url(), Branch: "release"})
	syncTo(t, src, rel)

	up.git(up.bare, "branch", "-D", "release")
	head, err := src.Sync(context.Background())
	require.ErrorIs(t, err, gitsource.ErrBranchGone)
	require.ErrorContains(t, err, `"release"`)
	require.Equal(t, rel, head)
	require.Equal(t, rel, src.Head())
	tree, err := src.Tree(rel)
	require.NoError(t, err, "the previous head stays readable")
	_, err = fs.ReadFile(tree, "f")
	require.NoError(t, err)

	cases := []struct {
		name   string
		url    func(t *testing.T) string
		branch string
	}{
		{"branch never existed", func(*testing.T) string { return up.url() }, "nope"},
		{"empty repository", func(t *testing.T) string { return newUpstream(t).url() }, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := newSource(t, gitsource.Options{URL: tc.url(t), Branch: tc.branch})
			head, err := src.Sync(context.Background())
			require.ErrorIs(t, err, gitsource.ErrBranchGone)
			require.Empty(t, head)
		})
	}
}

func TestUnreachableRemote(t *testing.T) {
	up := newUpstream(t)
	a := up.commit("a", map[string]string{"f": "a"})

	cases := []struct {
		name string
		url  string
	}{
		{"missing repository", "file://" + filepath.Join(t.TempDir(), "none.git")},
		{"closed port", "http://127.0.0.1:1/config.git"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := newSource(t, gitsource.Options{URL: tc.url})
			head, err := src.Sync(context.Background())
			require.ErrorIs(t, err, gitsource.ErrUnreachable)
			require.Empty(t, head)
		})
	}

	t.Run("remote goes away", func(t *testing.T) {
		src := newSource(t, gitsource.Options{URL: up.url()})
		syncTo(t, src, a)
		require.NoError(t, os.RemoveAll(up.bare))
		head, err := src.Sync(context.Background())
		require.ErrorIs(t, err, gitsource.ErrUnreachable)
		require.Equal(t, a, head)
		require.Equal(t, a, src.Head())
	})

	t.Run("cancelled", func(t *testing.T) {
		src := newSource(t, gitsource.Options{URL: "http://127.0.0.1:1/config.git"})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := src.Sync(ctx)
		require.ErrorIs(t, err, context.Canceled, "the cause is wrapped")
	})
}

func TestResolve(t *testing.T) {
	up := newUpstream(t)
	a := up.commit("a", map[string]string{"f": "a"})
	b := up.commit("b", map[string]string{"f": "b"})
	src := newSource(t, gitsource.Options{URL: up.url()})

	_, err := src.Resolve(a[:7])
	require.ErrorIs(t, err, gitsource.ErrUnknownRevision, "nothing known before the first Sync")
	syncTo(t, src, b)

	cases := []struct {
		name, in, want string
		err            error
	}{
		{"7 chars", a[:7], a, nil},
		{"12 chars", b[:12], b, nil},
		{"full", a, a, nil},
		{"upper case", strings.ToUpper(b[:9]), b, nil},
		{"6 chars", a[:6], "", gitsource.ErrUnknownRevision},
		{"41 chars", a + "0", "", gitsource.ErrUnknownRevision},
		{"not hex", "zzzzzzz", "", gitsource.ErrUnknownRevision},
		{"no such commit", flip(a), "", gitsource.ErrUnknownRevision},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := src.Resolve(tc.in)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

// flip changes the first character of a sha.
func flip(sha string) string {
	c := "0"
	if sha[0] == '0' {
		c = "1"
	}
	return c + sha[1:]
}

func TestAncestryAndCommitsAcrossMerges(t *testing.T) {
	// main: a - b - m - c, where m merges feature: a - f1 - f2.
	up := newUpstream(t)
	a := up.commit("a", map[string]string{"main": "a"})
	b := up.commit("b", map[string]string{"main": "b"})
	up.git(up.work, "checkout", "--quiet", "-b", "feature", a)
	f1 := up.commit("f1", map[string]string{"feature": "1"})
	f2 := up.commit("f2", map[string]string{"feature": "2"})
	up.git(up.work, "checkout", "--quiet", "main")
	up.git(up.work, "merge", "--quiet", "--no-ff", "-m", "m", "feature")
	m := up.head()
	c := up.commit("c", map[string]string{"main": "c"})
	src := newSource(t, gitsource.Options{URL: up.url()})
	syncTo(t, src, c)

	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{a, c, true}, {f1, c, true}, {f2, m, true}, {b, m, true}, {c, c, true},
		{c, a, false}, {f2, b, false}, {b, f2, false}, {m, f2, false},
	} {
		got, err := src.IsAncestor(tc.a, tc.b)
		require.NoError(t, err)
		require.Equal(t, tc.want, got, "IsAncestor(%s, %s)", tc.a[:7], tc.b[:7])
	}
	_, err := src.IsAncestor(flip(a), c)
	require.ErrorIs(t, err, gitsource.ErrUnknownRevision)
	_, err = src.IsAncestor(a, "c0ffee")
	require.ErrorIs(t, err, gitsource.ErrUnknownRevision)
	on, err := src.OnBranch(f1)
	require.NoError(t, err)
	require.True(t, on, "merged in")

	for _, tc := range []struct {
		name         string
		since, until string
		want         []string
	}{
		{"first-parent chain", a, c, []string{b, m, c}},
		{"one step", m, c, []string{c}},
		{"same commit", c, c, []string{}},
		{"since off the chain", f1, c, []string{b, m, c}},
		{"until older than since", c, b, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := src.Commits(tc.since, tc.until)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestLongHistory(t *testing.T) {
	up := newUpstream(t)
	root := up.commit("root", map[string]string{"f": "x"})
	shas := up.history(3000)
	head := shas[len(shas)-1]
	src := newSource(t, gitsource.Options{URL: up.url()})
	syncTo(t, src, head)

	for _, tc := range []struct {
		a, b string
		want bool
	}{{root, head, true}, {shas[10], shas[2900], true}, {shas[2900], shas[10], false}, {head, root, false}} {
		got, err := src.IsAncestor(tc.a, tc.b)
		require.NoError(t, err)
		require.Equal(t, tc.want, got)
	}
	between, err := src.Commits(shas[0], head)
	require.NoError(t, err)
	require.Len(t, between, 1000, "bounded, newest kept")
	require.Equal(t, head, between[len(between)-1])
	require.Equal(t, shas[2000], between[0])
	got, err := src.Resolve(shas[1234][:8])
	require.NoError(t, err)
	require.Equal(t, shas[1234], got)
}

func BenchmarkIsAncestor(b *testing.B) {
	up := newUpstream(b)
	up.commit("root", map[string]string{"f": "x"})
	shas := up.history(3000)
	src, err := gitsource.New(gitsource.Options{URL: up.url(), CacheDir: b.TempDir()})
	require.NoError(b, err)
	_, err = src.Sync(context.Background())
	require.NoError(b, err)
	for i := 0; b.Loop(); i++ {
		// Different pairs each time: the walk, not the cache, is measured
		// for the first 3000 iterations.
		x := shas[i%len(shas)]
		if _, err := src.IsAncestor(x, shas[len(shas)-1]); err != nil {
			b.Fatal(err)
		}
	}
}

func TestConcurrentReadsDuringSync(t *testing.T) {
	up := newUpstream(t)
	first := up.commit("first", map[string]string{"team/a.yaml": "a\n", "team/b.yaml": "b\n"})
	src := newSource(t, gitsource.Options{URL: up.url()})
	syncTo(t, src, first)

	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				tree, err := src.Tree(first)
				if err == nil {
					_, err = fs.ReadFile(tree, "team/a.yaml")
				}
				if err == nil {
					_, err = fs.ReadDir(tree, "team")
				}
				if err == nil {
					_, err = src.IsAncestor(first, src.Head())
				}
				if err != nil {
					errs <- err
					return
				}
				_, _ = src.OnBranch(first)
			}
		}()
	}
	var last string
	for i := 0; i < 5; i++ {
		last = up.commit("more", map[string]string{"team/c.yaml": strings.Repeat("c", i+1)})
		if _, err := src.Sync(context.Background()); err != nil {
			errs <- err
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, last, src.Head())
}
