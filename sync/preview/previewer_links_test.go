package preview_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/syncgate/syncgate/sync/gitsource"
	"github.com/syncgate/syncgate/sync/preview"
	"github.com/syncgate/syncgate/sync/render"
)

type namespacedKinds struct{}

func (namespacedKinds) IsNamespaced(schema.GroupVersionKind) (bool, error) { return true, nil }

// Link costs of the commit below: each link is hops links read, each
// then walked from the root through deep/, depth d/ and a name.
const (
	mazeDepth = 2000
	mazeHops  = 40
	linkCost  = mazeHops * (1 + 1 + mazeDepth + 1)
	linksOfA  = 8 // more than half of MaxLinkSteps
	linksOfB  = 6 // more than what a leaves of one budget
)

// mazeRepo is a bare repository whose main holds namespaces a and b, each
// a ConfigMap, and whose refs/pull/1/head adds to each links.txt files
// that point down a chain of mazeHops links at the bottom of a directory
// chain mazeDepth deep (fast-import: a work tree could not hold paths
// this long). It returns the repository's URL and the pull request's sha.
func mazeRepo(t *testing.T) (url, head string) {
	t.Helper()
	bare := filepath.Join(t.TempDir(), "config.git")
	git := func(stdin string, args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1", "GIT_DIR="+bare)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "git %s: %s", strings.Join(args, " "), out)
		return strings.TrimSpace(string(out))
	}
	require.NoError(t, exec.Command("git", "init", "--quiet", "--bare", "--initial-branch=main", bare).Run())

	bottom := "deep/" + strings.Repeat("d/", mazeDepth)
	var in strings.Builder
	blob := func(mark int, content string) {
		fmt.Fprintf(&in, "blob\nmark :%d\ndata %d\n%s\n", mark, len(content), content)
	}
	commit := func(ref, from string) {
		fmt.Fprintf(&in, "commit %s\ncommitter t <t@example.com> 1700000000 +0000\ndata 2\nc\n%s", ref, from)
	}
	for n, ns := range []string{"a", "b"} {
		blob(n+1, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: "+ns+"\n")
	}
	blob(3, "f")
	for k := 1; k < mazeHops; k++ { // L<k> -> L<k+1>, the last -> f.txt
		next := fmt.Sprintf("L%d", k+1)
		if k == mazeHops-1 {
			next = "f.txt"
		}
		blob(10+k, next)
	}
	blob(9, "../"+bottom+"L1")
	commit("refs/heads/main", "")
	fmt.Fprintf(&in, "M 100644 :1 a/cm.yaml\nM 100644 :2 b/cm.yaml\n")
	commit("refs/pull/1/head", "from refs/heads/main\n")
	fmt.Fprintf(&in, "M 100644 :3 %sf.txt\n", bottom)
	for k := 1; k < mazeHops; k++ {
		fmt.Fprintf(&in, "M 120000 :%d %sL%d\n", 10+k, bottom, k)
	}
	for ns, links := range map[string]int{"a": linksOfA, "b": linksOfB} {
		for n := 0; n < links; n++ {
			fmt.Fprintf(&in, "M 120000 :9 %s/x%d.txt\n", ns, n)
		}
	}
	git(in.String(), "fast-import", "--quiet")
	return "file://" + bare, git("", "rev-parse", "refs/pull/1/head")
}

// A preview renders each namespace within a symlink budget of its own, as
// a sync does: the links of a, which cost more than half of it, leave b,
// whose links cost more than what a leaves, the whole of its own.
func TestPreviewBoundsSymlinksPerNamespace(t *testing.T) {
	require.Greater(t, linksOfA*linkCost, gitsource.MaxLinkSteps/2)
	require.Greater(t, linksOfB*linkCost, gitsource.MaxLinkSteps-linksOfA*linkCost)
	require.Less(t, linksOfA*linkCost, gitsource.MaxLinkSteps)

	url, head := mazeRepo(t)
	src, err := gitsource.New(gitsource.Options{URL: url, CacheDir: t.TempDir()})
	require.NoError(t, err)
	_, err = src.Sync(context.Background())
	require.NoError(t, err)
	r, err := render.New(render.Options{Cluster: "c", Scoper: namespacedKinds{}})
	require.NoError(t, err)

	p, pl, d := startWith(t, preview.Options{Source: src, Renderer: r, Namespaces: []string{"a", "b"}})
	pl.open("a")
	pl.open("b")
	_, err = p.Submit(context.Background(), preview.Request{SHA: head, Ref: "refs/pull/1/head", Provider: "github", Number: 1})
	require.NoError(t, err)
	// a million lookups or two: longer than eventually waits, under load
	require.Eventually(t, func() bool { return len(d.get()) == 1 }, 2*time.Minute, time.Millisecond)

	res := p.Get(head)
	require.Len(t, res.Namespaces, 2)
	for _, n := range res.Namespaces {
		require.Equal(t, preview.Valid, n.State, "%s: %s", n.Namespace, n.Reason)
	}
	require.Equal(t, []string{"github#1@" + head + "=valid"}, d.get())
}
