package render_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/sync/render"
)

// slowBuild takes kustomize about 5 s of processor time (its accumulation
// is quadratic in the objects).
func slowBuild() fstest.MapFS {
	return fstest.MapFS{"team/kustomization.yaml": file("resources: [many.yaml]\n"), "team/many.yaml": file(documents(3000))}
}

// bigBuild makes a ConfigMap of 20 MiB from 20 files, which takes
// kustomize a data segment of more than 256 MiB but little time.
func bigBuild() fstest.MapFS {
	tree := fstest.MapFS{}
	var files []string
	for i := 0; i < 20; i++ {
		name := fmt.Sprintf("f%02d.txt", i)
		tree["team/"+name] = file(strings.Repeat(string(rune('a'+i)), 1<<20))
		files = append(files, name)
	}
	tree["team/kustomization.yaml"] = file("configMapGenerator: [{name: big, files: [" + strings.Join(files, ", ") + "]}]\n")
	return tree
}

// The limits the build process's kernel enforces, past what the parent
// measures: memory and processor time.
func TestBuildBackstops(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tree   fstest.MapFS
		limits render.Limits
		reason string
	}{
		{"memory", bigBuild(), render.Limits{BuildMemory: 160 << 20}, `the kustomize build needs more than the memory limit of 160 MiB \(it last read team/f\d\d.txt\)`},
		// Only the kernel ends it: on a busy machine a second of processor
		// time takes many more of wall-clock time.
		{"processor time", slowBuild(), render.Limits{BuildTime: time.Second, BuildWallTime: 10 * time.Minute}, `the kustomize build used more than the limit of 1s of processor time \(it last read team/many.yaml\)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRenderer(t, func(o *render.Options) { o.Limits = tc.limits })
			start := time.Now()
			_, err := r.Render(tc.tree, "team")
			require.ErrorIs(t, err, render.ErrTooLarge)
			var re *render.Error
			require.ErrorAs(t, err, &re)
			require.Equal(t, "team/kustomization.yaml", re.File)
			require.Regexp(t, "^"+tc.reason+"$", re.Err.Error())
			t.Logf("refused after %v", time.Since(start))

			if tc.name == "memory" { // the refusal is the limit's: with room, it builds
				objs, err := newRenderer(t, func(o *render.Options) { o.Limits.BuildMemory = 1 << 30 }).Render(tc.tree, "team")
				require.NoError(t, err)
				require.Len(t, objs, 1)
			}
		})
	}
}

func TestRenderContextStopsTheBuild(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	_, err := newRenderer(t, nil).RenderContext(ctx, slowBuild(), "team")
	require.ErrorIs(t, err, context.Canceled)
	var re *render.Error
	require.False(t, errors.As(err, &re), "not the commit's fault")
	require.Less(t, time.Since(start), 3*time.Second, "the build is stopped, not waited for")

	// A render waiting for a build slot stops waiting too.
	r := newRenderer(t, nil) // one build at a time
	busy, stopBusy := context.WithCancel(context.Background())
	defer stopBusy()
	go func() { _, _ = r.RenderContext(busy, slowBuild(), "team") }()
	require.Eventually(t, func() bool { return render.BuildsInFlight(r) == 1 }, 5*time.Second, time.Millisecond, "the busy render holds the slot")
	waiting, cancelWaiting := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancelWaiting()
	_, err = r.RenderContext(waiting, slowBuild(), "team")
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

// A directory of many files renders nothing and reads no bytes, yet its
// listing costs the agent memory per entry: Entries bounds the plain
// directories and the image pins' listings as it bounds a build's.
func TestEntriesBoundEveryListing(t *testing.T) {
	many := func(ext string, extra fstest.MapFS) fstest.MapFS {
		tree := fstest.MapFS{}
		for i := 0; i <= 200_000; i++ {
			tree[fmt.Sprintf("a/%06d.%s", i, ext)] = &fstest.MapFile{}
		}
		for name, f := range extra {
			tree[name] = f
		}
		return tree
	}
	for _, tc := range []struct {
		name string
		tree fstest.MapFS
	}{
		{"empty YAML files", many("yaml", nil)},
		{"files beside image pins", many("txt", fstest.MapFS{"a/images_path": file("registry.example.com/team")})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRenderer(t, func(o *render.Options) { o.Limits = render.Limits{Entries: 100_000} })
			objs, err := r.Render(tc.tree, "a")
			require.ErrorIs(t, err, render.ErrTooMany, "rendered %d objects", len(objs))
			var re *render.Error
			require.ErrorAs(t, err, &re)
			require.Equal(t, "a", re.File)

			// Under the limit, the same directory renders.
			r = newRenderer(t, func(o *render.Options) { o.Limits = render.Limits{Entries: 300_000} })
			objs, err = r.Render(tc.tree, "a")
			require.NoError(t, err)
			require.Empty(t, objs)
		})
	}
}

// opens notes every file a render opens.
type opens struct {
	fstest.MapFS
	opened map[string]bool
}

func (o *opens) Open(name string) (fs.File, error) {
	o.opened[name] = true
	return o.MapFS.Open(name)
}

// plainLayers is ConfigMaps c0 to c7 in a/, one a file, and in prod/a/
// the same files of ConfigMaps named prefix0 to prefix7, extra added to
// their metadata.
func plainLayers(prefix, extra string) fstest.MapFS {
	tree := fstest.MapFS{}
	for i := 0; i < 8; i++ {
		tree[fmt.Sprintf("a/%d.yaml", i)] = file(cm(fmt.Sprintf("c%d", i), ""))
		tree[fmt.Sprintf("prod/a/%d.yaml", i)] = file(cm(fmt.Sprintf("%s%d", prefix, i), extra))
	}
	return tree
}

// builtLayers is a/ building ConfigMaps c00000 to c<n-1> from many.yaml,
// and prod/a/ the kustomization prod beside a many.yaml of its own.
func builtLayers(n int, prod string) fstest.MapFS {
	return fstest.MapFS{
		"a/kustomization.yaml":      file("resources: [many.yaml]\n"),
		"a/many.yaml":               file(documents(n)),
		"prod/a/kustomization.yaml": file(prod),
		"prod/a/many.yaml":          file(documents(n)),
	}
}

// Objects bounds what the namespace renders, ./a/ and ./prod/a/ merged,
// and is refused at the first object past it, before the rest is decoded.
// An object of ./prod/a/ that replaces one of ./a/ is one object of the
// namespace, an overlay that rebuilds ./a/ (resources: [../../a]) too.
func TestObjectsBoundTheNamespace(t *testing.T) {
	for _, tc := range []struct {
		name         string
		tree         fstest.MapFS
		renders      int // when not refused
		file, object string
		unread       []string
	}{
		{"plain", plainLayers("p", ""), 0, "prod/a/2.yaml", `ConfigMap "p2"`, []string{"prod/a/3.yaml", "prod/a/7.yaml"}},
		{"kustomize", builtLayers(8, "resources: [many.yaml]\nnamePrefix: p-\n"), 0, "prod/a/kustomization.yaml", `ConfigMap "p-c00002"`, nil},
		{"plain replaced", plainLayers("c", ", namespace: a"), 8, "", "", nil},
		{"kustomize overlay", builtLayers(6, "resources: [../../a]\ncommonLabels: {cluster: prod}\n"), 6, "", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tree := &opens{MapFS: tc.tree, opened: map[string]bool{}}
			r := newRenderer(t, func(o *render.Options) { o.Limits = render.Limits{Objects: 10} })
			objs, err := r.Render(tree, "a")
			if tc.file == "" {
				require.NoError(t, err)
				require.Len(t, objs, tc.renders)
				return
			}
			require.ErrorIs(t, err, render.ErrTooMany)
			var re *render.Error
			require.ErrorAs(t, err, &re)
			require.Equal(t, tc.file, re.File)
			require.Equal(t, tc.object, re.Object)
			for _, f := range tc.unread {
				require.False(t, tree.opened[f], "%s is past the limit", f)
			}
		})
	}
}

// counted is a tree that counts a directory without listing it, as
// gitsource's trees do, and notes the directories it lists.
type counted struct {
	fstest.MapFS
	listed map[string]bool
}

func (c *counted) CountEntries(dir string) (int, error) {
	entries, err := c.MapFS.ReadDir(dir)
	return len(entries), err
}

func (c *counted) ReadDir(dir string) ([]fs.DirEntry, error) {
	c.listed[dir] = true
	return c.MapFS.ReadDir(dir)
}

// Where the tree can count a directory, one past Entries is refused
// before it is listed.
func TestEntriesCountedBeforeListing(t *testing.T) {
	tree := &counted{MapFS: fstest.MapFS{}, listed: map[string]bool{}}
	for i := 0; i < 20; i++ {
		tree.MapFS[fmt.Sprintf("a/%02d.txt", i)] = &fstest.MapFile{}
	}
	r := newRenderer(t, func(o *render.Options) { o.Limits = render.Limits{Entries: 10} })
	_, err := r.Render(tree, "a")
	require.ErrorIs(t, err, render.ErrTooMany)
	require.False(t, tree.listed["a"], "refused before it is listed")

	r = newRenderer(t, func(o *render.Options) { o.Limits = render.Limits{Entries: 20} })
	_, err = r.Render(tree, "a")
	require.NoError(t, err)
	require.True(t, tree.listed["a"])
}

// An object of ./a/ is replaced once: a second object of ./prod/a/ with
// its key is charged, so what both directories build stays within twice
// Objects however often ./prod/a/ repeats it.
func TestObjectsReplacedOnce(t *testing.T) {
	tree := &opens{MapFS: fstest.MapFS{"a/c.yaml": file(cm("c", ""))}, opened: map[string]bool{}}
	for i := 0; i < 100; i++ {
		tree.MapFS[fmt.Sprintf("prod/a/%03d.yaml", i)] = file(cm("c", ""))
	}
	r := newRenderer(t, func(o *render.Options) { o.Limits = render.Limits{Objects: 10} })
	_, err := r.Render(tree, "a")
	require.ErrorIs(t, err, render.ErrTooMany)
	var re *render.Error
	require.ErrorAs(t, err, &re)
	require.Equal(t, "prod/a/010.yaml", re.File)
	require.Equal(t, `ConfigMap "c"`, re.Object)
	require.False(t, tree.opened["prod/a/011.yaml"], "past the limit")
}

// A build past its wall-clock limit with processor time left was starved
// by a busy machine (or stuck), not made too large by the commit: the
// render fails as trouble, to be tried again, and says so.
func TestBuildWallTimeIsNotARefusal(t *testing.T) {
	r := newRenderer(t, func(o *render.Options) { o.Limits = render.Limits{BuildWallTime: 200 * time.Millisecond} })
	_, err := r.Render(slowBuild(), "team")
	require.ErrorIs(t, err, render.ErrBuildTimedOut)
	var re *render.Error
	require.False(t, errors.As(err, &re), "not the commit's fault: %v", err)
	require.Regexp(t, `^render team/kustomization.yaml: the kustomize build timed out: it ran for more than 200ms `+
		`having used [0-9.]+[mµ]?s of its 1m0s of processor time: the machine is too busy to run it, or the build process is stuck`,
		err.Error())
}
