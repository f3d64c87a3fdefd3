package render_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/sync/gitsource"
	"github.com/syncgate/syncgate/sync/inputs"
	"github.com/syncgate/syncgate/sync/render"
)

// gitTree commits files and symlinks (values starting with "-> ") with the
// git binary and returns the commit's tree as gitsource serves it.
func gitTree(t testing.TB, files map[string]string) fs.FS {
	t.Helper()
	work := t.TempDir()
	run := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
			"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "git %v: %s", args, out)
		return strings.TrimSpace(string(out))
	}
	run("init", "--quiet", "--initial-branch=main")
	for name, content := range files {
		p := filepath.Join(work, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		if target, ok := strings.CutPrefix(content, "-> "); ok {
			require.NoError(t, os.Symlink(target, p))
			continue
		}
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	run("add", "-A")
	run("commit", "--quiet", "-m", "config")
	sha := run("rev-parse", "HEAD")
	src, err := gitsource.New(gitsource.Options{URL: "file://" + work, CacheDir: t.TempDir()})
	require.NoError(t, err)
	_, err = src.Sync(context.Background())
	require.NoError(t, err)
	tree, err := src.Tree(sha)
	require.NoError(t, err)
	return tree
}

func TestRenderFromGit(t *testing.T) {
	cases := []struct {
		renderCase
		files map[string]string
	}{
		{renderCase{name: "git-symlinks-inside"}, map[string]string{
			"base/cm.yaml":                 cm("from-base", ""),
			"team/cm.yaml":                 "-> ../base/cm.yaml",
			"lib/kustomization.yaml":       "resources: [cm.yaml]\n",
			"lib/cm.yaml":                  cm("from-lib", ""),
			"prod/team/shared":             "-> ../../lib",
			"prod/team/kustomization.yaml": "resources: [shared]\n",
			"loop/self":                    "-> .", // never walked
		}},
		{renderCase{name: "git-symlink-escape", is: gitsource.ErrSymlinkEscape}, map[string]string{
			"team/ok.yaml":   cm("ok", ""),
			"team/evil.yaml": "-> /etc/passwd",
		}},
		{renderCase{name: "git-symlink-escape-kustomize", is: gitsource.ErrSymlinkEscape}, map[string]string{
			"team/kustomization.yaml": "resources: [leak.yaml]\n",
			"team/leak.yaml":          "-> ../../outside.yaml",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.tree = gitTree(t, tc.files)
			checkGolden(t, tc.renderCase)
		})
	}
}

func BenchmarkRender1000FromGit(b *testing.B) {
	files := map[string]string{}
	for name, f := range thousandObjects() {
		files[name] = string(f.Data)
	}
	tree := gitTree(b, files)
	r := newRenderer(b, nil)
	for b.Loop() {
		if _, err := r.Render(tree, "team"); err != nil {
			b.Fatal(err)
		}
	}
}

// A render bounds the bytes of git trees it reads at Limits.TreeBytes,
// through inputs' recorder too: past it, the namespace's commit is
// refused naming the directory.
func TestTreeBytesBoundTheRender(t *testing.T) {
	files := map[string]string{"b/cm.yaml": cm("b", "")}
	for i := 0; i < 20; i++ {
		files[fmt.Sprintf("a/%02d%s.yaml", i, strings.Repeat("n", 200))] = cm(fmt.Sprintf("a%02d", i), "")
	}
	for _, recorded := range []bool{false, true} {
		t.Run(fmt.Sprint("recorded=", recorded), func(t *testing.T) {
			// A tree of its own: a render's trees count once per Tree.
			tree := gitTree(t, files)
			if recorded {
				rec, err := inputs.Record(tree)
				require.NoError(t, err)
				tree = rec
			}
			// The root's tree and b's fit; a's, of 20 long names, does not.
			r := newRenderer(t, func(o *render.Options) { o.Limits = render.Limits{TreeBytes: 2048} })
			_, err := r.Render(tree, "b")
			require.NoError(t, err)
			_, err = r.Render(tree, "a")
			var re *render.Error
			require.True(t, errors.As(err, &re), "the commit's fault: %v", err)
			require.ErrorContains(t, err, "a: too many bytes of git trees")

			_, err = newRenderer(t, nil).Render(tree, "a")
			require.NoError(t, err, "within the default")
		})
	}
}
