package render_test

import (
	"bufio"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/syncgate/syncgate/sync/render"
	"github.com/syncgate/syncgate/testing/heappeak"
)

// heapBound is what one adversarial render may add to this process's heap
// at its peak (runtime.MemStats.HeapAlloc, sampled every millisecond).
// kustomize's own memory is the build process's, bounded by its limit;
// what the parent holds is bounded by render.DefaultLimits (seen: 12 MiB
// at most, for the generator reading one file a hundred times).
const heapBound = 48 << 20

// renderDeadline is how long one adversarial render may take here.
const renderDeadline = 20 * time.Second

// An adversarial case is a repo tree in testdata/adversarial/<name>/;
// LISTENER in any of its files becomes the address of a loopback server
// that counts the connections it gets. Every case must be refused, with
// the sentinel is, naming a file matching file (and object, when set),
// without a single connection and within heapBound.
type adversarialCase struct {
	name   string
	is     error
	file   string // regular expression for the file the refusal names
	object string
	hang   bool                    // the server accepts and never answers
	gen    func(tree fstest.MapFS) // content generated at test time
	limits func(*render.Limits)    // limits other than the defaults
}

func adversarialCases() []adversarialCase {
	return []adversarialCase{
		// Network: every way kustomize loads a path.
		{name: "generator-config-file", is: render.ErrRemoteBase, file: "team/gen.yaml"},
		{name: "generator-config-secret-envs", is: render.ErrRemoteBase, file: "team/gen/secret.yaml"},
		{name: "inline-transformer", is: render.ErrRemoteBase, file: "team/kustomization.yaml"},
		{name: "transformer-config-file", is: render.ErrRemoteBase, file: "team/patch.yaml"},
		{name: "replacements-transformer-url", is: render.ErrRemoteBase, file: "team/replace.yaml"},
		{name: "replacements-url", is: render.ErrRemoteBase, file: "team/kustomization.yaml"},
		{name: "openapi-http", is: render.ErrRemoteBase, file: "team/kustomization.yaml"},
		{name: "helm-charts", is: render.ErrRemoteBase, file: "team/kustomization.yaml"},
		{name: "helm-generator-config", is: render.ErrBuild, file: "team/kustomization.yaml"},
		{name: "remote-resource", is: render.ErrRemoteBase, file: "team/kustomization.yaml"},
		{name: "remote-git-base", is: render.ErrRemoteBase, file: "team/kustomization.yaml"},
		{name: "remote-component", is: render.ErrRemoteBase, file: "team/kustomization.yaml"},
		// kustomize matches a kustomization's keys case-insensitively: a
		// check of the field names is no guarantee.
		{name: "remote-resource-capitalized", is: render.ErrRemoteBase, file: "team/kustomization.yaml"},
		{name: "remote-component-capitalized", is: render.ErrBuild, file: "team/kustomization.yaml"},
		{name: "remote-git-ssh-capitalized", is: render.ErrBuild, file: "team/kustomization.yaml"},
		{name: "openapi-capitalized", is: render.ErrRemoteBase, file: "team/kustomization.yaml"},
		{name: "never-answers", is: render.ErrRemoteBase, file: "team/gen.yaml", hang: true},
		{name: "symlinked-kustomization", is: render.ErrRemoteBase, file: "lib/fetch.yaml"},

		// Expansion: aliases in every YAML kustomize parses, and in plain YAML.
		{name: "alias-bomb-plain", is: render.ErrTooLarge, file: "team/bomb.yaml"},
		{name: "alias-bomb-kustomize", is: render.ErrTooLarge, file: "team/bomb.yaml"},
		{name: "alias-bomb-patch", is: render.ErrTooLarge, file: "team/bomb.yaml"},
		{name: "alias-bomb-generator-config", is: render.ErrTooLarge, file: "team/gen.yaml"},
		{name: "alias-bomb-in-kustomization", is: render.ErrTooLarge, file: "team/kustomization.yaml"},

		// Size and fan-out.
		{name: "deep-overlay-chain", is: render.ErrTooMany, file: `chain/o\d+/kustomization.yaml`, gen: overlayChain(600)},
		{name: "doubling-bases", is: render.ErrTooMany, file: `fan/l\d+/[ab]/kustomization.yaml`, gen: doublingBases(20)},
		{name: "generator-repeats-file", is: render.ErrTooLarge, file: "team/big.txt", gen: func(tree fstest.MapFS) {
			tree["team/big.txt"] = file(strings.Repeat("0123456789abcdef", 1<<16)) // 1 MiB
		}},
		{name: "hundred-thousand-documents", is: render.ErrTooLarge, file: "team/many.yaml", gen: func(tree fstest.MapFS) {
			tree["team/many.yaml"] = file(documents(100_000))
		}},
		{name: "many-objects-kustomize", is: render.ErrTooMany, file: "team/many.yaml", gen: func(tree fstest.MapFS) {
			tree["team/many.yaml"] = file(documents(15_000))
		}},
		{name: "objects-past-limit", is: render.ErrTooMany, file: "team/kustomization.yaml", object: `ConfigMap "c00100"`,
			limits: func(l *render.Limits) { l.Objects = 100 }, gen: func(tree fstest.MapFS) {
				tree["team/many.yaml"] = file(documents(150))
			}},
		{name: "ten-mb-value-plain", is: render.ErrTooLarge, file: "team/big.yaml", gen: func(tree fstest.MapFS) {
			tree["team/big.yaml"] = file(cm("big", "") + "data:\n  value: " + strings.Repeat("x", 10_000_000) + "\n")
		}},
		{name: "ten-mb-value-generator", is: render.ErrTooLarge, file: "team/big.bin", gen: func(tree fstest.MapFS) {
			tree["team/big.bin"] = file(strings.Repeat("x", 10_000_000))
		}},

		// Isolation: another team's object.
		{name: "foreign-namespace-plain", is: render.ErrForeignNS, file: "team/deploy.yaml", object: `Deployment "web"`},
		{name: "foreign-namespace-kustomize", is: render.ErrForeignNS, file: "team/kustomization.yaml", object: `Deployment "web"`},
	}
}

func TestAdversarial(t *testing.T) {
	cases := adversarialCases()
	dirs, err := os.ReadDir(filepath.Join("testdata", "adversarial"))
	require.NoError(t, err)
	require.Len(t, cases, len(dirs), "one case per tree in testdata/adversarial")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRenderer(t, func(o *render.Options) {
				if tc.limits != nil {
					tc.limits(&o.Limits)
				}
			})
			srv := listen(t, tc.hang)
			tree := adversarialTree(t, tc.name, srv.addr())
			if tc.gen != nil {
				tc.gen(tree)
			}
			var objs int
			peak := measureHeap(t, func() {
				var got []*unstructured.Unstructured
				got, err = renderWithin(t, r, tree)
				objs = len(got)
			})
			t.Logf("refusal: %v (peak heap growth %d KiB)", err, peak>>10)
			require.Zero(t, srv.connections(), "connections to the loopback server")
			require.ErrorIs(t, err, tc.is, "rendered %d objects", objs)
			var re *render.Error
			require.ErrorAs(t, err, &re)
			require.Regexp(t, "^"+tc.file+"$", re.File)
			require.Equal(t, tc.object, re.Object)
			require.Less(t, peak, uint64(heapBound), "peak heap growth %d MiB", peak>>20)
		})
	}
}

// adversarialTree reads testdata/adversarial/<name>/ into a tree, symlinks
// included, with LISTENER replaced by addr.
func adversarialTree(t testing.TB, name, addr string) fstest.MapFS {
	t.Helper()
	root := filepath.Join("testdata", "adversarial", name)
	tree := fstest.MapFS{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || p == filepath.Join(root, "README") {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.Type()&fs.ModeSymlink != 0 {
			target, err := os.Readlink(p)
			tree[rel] = &fstest.MapFile{Data: []byte(target), Mode: fs.ModeSymlink}
			return err
		}
		b, err := os.ReadFile(p)
		tree[rel] = file(strings.ReplaceAll(string(b), "LISTENER", addr))
		return err
	})
	require.NoError(t, err)
	return tree
}

// renderWithin renders namespace team, failing the test when the render
// does not return in time (it is left running).
func renderWithin(t testing.TB, r *render.Renderer, tree fs.FS) ([]*unstructured.Unstructured, error) {
	type result struct {
		objs []*unstructured.Unstructured
		err  error
	}
	done := make(chan result, 1)
	go func() {
		objs, err := r.Render(tree, "team")
		done <- result{objs, err}
	}()
	select {
	case res := <-done:
		return res.objs, res.err
	case <-time.After(renderDeadline):
		t.Fatalf("the render did not return within %v", renderDeadline)
		return nil, nil
	}
}

// measureHeap runs fn and returns how far the heap grew above where it
// was before, at its peak. A heap growing past four times heapBound stops
// the test process: the machine running the tests is not to be taken down.
func measureHeap(t testing.TB, fn func()) uint64 {
	return heappeak.Measure(t.Name(), 4*heapBound, fn)
}

// server is a loopback listener that counts connections; it answers each
// request with a body no render may ever contain, or never answers.
type server struct {
	ln    net.Listener
	count atomic.Int64
}

func listen(t testing.TB, hang bool) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &server{ln: ln}
	var held []net.Conn
	var mu sync.Mutex
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.count.Add(1)
			if hang {
				mu.Lock()
				held = append(held, c)
				mu.Unlock()
				continue
			}
			go func() {
				defer c.Close()
				_, _ = bufio.NewReader(c).ReadString('\n')
				body := "aws_secret_access_key=LEAKED\n"
				fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
			}()
		}
	}()
	return s
}

func (s *server) addr() string       { return s.ln.Addr().String() }
func (s *server) connections() int64 { return s.count.Load() }

// documents is a YAML stream of n minimal ConfigMaps c00000, c00001, ...
func documents(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "---\n{apiVersion: v1, kind: ConfigMap, metadata: {name: c%05d}}\n", i)
	}
	return b.String()
}

// overlayChain makes chain/o0000 ... chain/o<n-1>, each the base of the
// next, and chain/top the last.
func overlayChain(n int) func(fstest.MapFS) {
	return func(tree fstest.MapFS) {
		tree["chain/base/kustomization.yaml"] = file("resources: [cm.yaml]\n")
		tree["chain/base/cm.yaml"] = file(cm("chained", ""))
		prev := "../base"
		for i := 0; i < n; i++ {
			dir := fmt.Sprintf("chain/o%04d", i)
			tree[dir+"/kustomization.yaml"] = file("resources: [" + prev + "]\ncommonLabels: {level: \"" + fmt.Sprint(i) + "\"}\n")
			prev = fmt.Sprintf("../o%04d", i)
		}
		tree["chain/top/kustomization.yaml"] = file("resources: [" + prev + "]\n")
	}
}

// doublingBases makes fan/l<i>/a and fan/l<i>/b for i < n, each including
// both of level i-1 under its own name prefix: level i renders 2^(i+1)
// objects from four files per level.
func doublingBases(n int) func(fstest.MapFS) {
	return func(tree fstest.MapFS) {
		for _, s := range []string{"a", "b"} {
			tree["fan/l0/"+s+"/kustomization.yaml"] = file("resources: [cm.yaml]\nnamePrefix: " + s + "-\n")
			tree["fan/l0/"+s+"/cm.yaml"] = file(cm("c", ""))
			for i := 1; i < n; i++ {
				tree[fmt.Sprintf("fan/l%d/%s/kustomization.yaml", i, s)] = file(
					fmt.Sprintf("resources: [../../l%d/a, ../../l%d/b]\nnamePrefix: %s-\n", i-1, i-1, s))
			}
		}
	}
}
