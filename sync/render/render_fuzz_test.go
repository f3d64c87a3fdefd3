package render_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/sync/render"
)

// fuzzHeapBound is the most this process's heap may hold after a fuzzed
// render; the process runs with a soft memory limit of twice that.
const fuzzHeapBound = 512 << 20

// FuzzRender renders fuzzed repo trees, each an archive of files:
//
//	-- team/kustomization.yaml --
//	resources: [cm.yaml]
//	-- team/link -> ../lib/file --
//
// LISTENER becomes the address of a loopback server that must never be
// reached. The seeds are the trees of testdata/adversarial and a few
// ordinary ones. Whatever the tree, the render returns objects of the
// namespace or a *render.Error, makes no connection, and leaves the heap
// under fuzzHeapBound.
func FuzzRender(f *testing.F) {
	dirs, err := os.ReadDir(filepath.Join("testdata", "adversarial"))
	require.NoError(f, err)
	for _, d := range dirs {
		f.Add(archive(f, adversarialTree(f, d.Name(), "LISTENER")))
	}
	for _, tree := range []fstest.MapFS{
		{"team/deploy.yaml": file(deploy), "team/images_path": file("r.example.com"), "team/web.deployment": file("1")},
		{"team/x.yaml": file("apiVersion: v1\nkind: List\nitems: [{apiVersion: v1, kind: ConfigMap, metadata: {name: a}}]\n")},
		{"team/x.yaml": file("a: &a [*a, *a]\n")},
		{"team/kustomization.yaml": file("resources: [x.yaml]\nnamePrefix: p-\n"), "team/x.yaml": file(deploy)},
		{"base/kustomization.yaml": file("resources: [cm.yaml]\n"), "base/cm.yaml": file(cm("a", "")),
			"prod/team/kustomization.yaml": file("resources: [../../base]\nconfigMapGenerator: [{name: g, literals: [a=b]}]\n")},
	} {
		f.Add(archive(f, tree))
	}

	debug.SetMemoryLimit(2 * fuzzHeapBound)
	srv := listen(f, false)
	addr := []byte(srv.addr())
	r := newRenderer(f, func(o *render.Options) {
		o.Limits = render.Limits{FileBytes: 256 << 10, ReadBytes: 4 << 20, Objects: 500, Documents: 600,
			Kustomizations: 50, Entries: 10_000, RenderBytes: 4 << 20, BuildTime: 2 * time.Second,
			BuildWallTime: 10 * time.Minute} // a busy machine's timeout is no refusal
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		tree := unarchive(bytes.ReplaceAll(data, []byte("LISTENER"), addr))
		objs, err := r.Render(tree, "team")
		require.Zero(t, srv.connections(), "connections to the loopback server")
		if err != nil {
			var re *render.Error
			require.True(t, errors.As(err, &re), "a tree that reads fine is refused, not trouble: %v", err)
		}
		for _, o := range objs {
			require.NotEmpty(t, o.GetKind())
			require.NotEmpty(t, o.GetName())
			require.Equal(t, "team", o.GetNamespace())
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		require.Less(t, ms.HeapAlloc, uint64(fuzzHeapBound))
	})
}

var header = regexp.MustCompile(`^-- (.+?)(?: -> (.+))? --$`)

func archive(t testing.TB, tree fstest.MapFS) []byte {
	var b bytes.Buffer
	names := make([]string, 0, len(tree))
	for name := range tree {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		f := tree[name]
		if f.Mode&fs.ModeSymlink != 0 {
			b.WriteString("-- " + name + " -> " + string(f.Data) + " --\n")
			continue
		}
		b.WriteString("-- " + name + " --\n")
		b.Write(f.Data)
		if len(f.Data) > 0 && f.Data[len(f.Data)-1] != '\n' {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// unarchive reads an archive; names that cannot be paths are skipped.
func unarchive(data []byte) fstest.MapFS {
	tree := fstest.MapFS{}
	var cur *fstest.MapFile
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if m := header.FindStringSubmatch(strings.TrimSuffix(line, "\n")); m != nil {
			cur = nil
			if !fs.ValidPath(m[1]) || m[1] == "." {
				continue
			}
			if m[2] != "" {
				tree[m[1]] = &fstest.MapFile{Data: []byte(m[2]), Mode: fs.ModeSymlink}
				continue
			}
			cur = &fstest.MapFile{}
			tree[m[1]] = cur
			continue
		}
		if cur != nil {
			cur.Data = append(cur.Data, line...)
		}
	}
	return tree
}
