package gitsource_test

import (
	"fmt"
	"io/fs"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/sync/gitsource"
)

// linkMaze commits, with fast-import (the work tree could not hold paths
// this long), a directory chain a/d/d/.../d depth levels deep whose
// bottom holds a chain of hops-1 symlinks ending at f.yaml, and links
// symlinks a/xN.yaml each pointing at the head of that chain: hops links
// to follow per x, each hop a walk of depth components from the root.
func (u *upstream) linkMaze(depth, hops, links int) string {
	u.t.Helper()
	bottom := "a/" + strings.Repeat("d/", depth)
	var in strings.Builder
	blob := func(mark int, content string) {
		fmt.Fprintf(&in, "blob\nmark :%d\ndata %d\n%s\n", mark, len(content), content)
	}
	blob(1, "kind: ConfigMap\n")
	for k := 1; k < hops-1; k++ {
		blob(k+1, fmt.Sprintf("L%d", k+1))
	}
	blob(hops, "f.yaml")
	blob(hops+1, strings.Repeat("d/", depth)+"L1")
	fmt.Fprintf(&in, "commit refs/heads/%s\ncommitter t <t@example.com> 1700000000 +0000\ndata 4\nmaze\n", u.branch)
	fmt.Fprintf(&in, "M 100644 :1 %sf.yaml\n", bottom)
	for k := 1; k < hops; k++ {
		fmt.Fprintf(&in, "M 120000 :%d %sL%d\n", k+1, bottom, k)
	}
	for n := 0; n < links; n++ {
		fmt.Fprintf(&in, "M 120000 :%d a/x%d.yaml\n", hops+1, n)
	}
	cmd := exec.Command("git", "fast-import", "--quiet", "--force")
	cmd.Dir = u.work
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.CombinedOutput()
	require.NoError(u.t, err, "fast-import: %s", out)
	u.git(u.work, "update-ref", "HEAD", "refs/heads/"+u.branch)
	u.push()
	return u.git(u.work, "rev-parse", "refs/heads/"+u.branch)
}

// A listing follows each of its links to tell a linked directory from a
// file; links that each cost 40 hops down a 2,000-deep chain stop at the
// budget of one Tree instead of costing 80,000 lookups apiece, and a new
// Tree reads one of them, at exactly the hop limit, again.
func TestTreeBoundsSymlinkResolution(t *testing.T) {
	up := newUpstream(t)
	sha := up.linkMaze(2000, 40, 20)
	src := newSource(t, gitsource.Options{URL: up.url()})
	syncTo(t, src, sha)

	tree, err := src.Tree(sha)
	require.NoError(t, err)
	_, err = fs.ReadDir(tree, "a")
	require.ErrorContains(t, err, "too much symlink resolution in a/x")
	require.ErrorIs(t, err, fs.ErrInvalid, "the commit's fault, not the store's")
	require.LessOrEqual(t, gitsource.LinkSteps(tree), int64(gitsource.MaxLinkSteps+1))
	_, err = fs.ReadFile(tree, "a/x0.yaml")
	require.ErrorContains(t, err, "too much symlink resolution in a/x0.yaml", "the budget is spent")

	tree, err = src.Tree(sha)
	require.NoError(t, err)
	b, err := fs.ReadFile(tree, "a/x0.yaml")
	require.NoError(t, err)
	require.Equal(t, "kind: ConfigMap\n", string(b))
	// 40 links read, each then walked from the root: a/, 2,000 d/ and a name.
	require.Equal(t, int64(40*(1+2002)), gitsource.LinkSteps(tree))
}
