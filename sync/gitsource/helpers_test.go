package gitsource_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/sync/gitsource"
)

// upstream is a bare repository on disk, changed through a work clone with
// the git binary, served to the Source over file://.
type upstream struct {
	t          testing.TB
	bare, work string
	branch     string
}

func newUpstream(t testing.TB) *upstream {
	t.Helper()
	u := &upstream{t: t, bare: filepath.Join(t.TempDir(), "config.git"), work: t.TempDir(), branch: "main"}
	u.git("", "init", "--quiet", "--bare", "--initial-branch=main", u.bare)
	u.git(u.work, "init", "--quiet", "--initial-branch=main")
	u.git(u.work, "remote", "add", "origin", u.bare)
	return u
}

func (u *upstream) url() string { return "file://" + u.bare }

func (u *upstream) git(dir string, args ...string) string {
	u.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	out, err := cmd.CombinedOutput()
	require.NoError(u.t, err, "git %s: %s", strings.Join(args, " "), out)
	return strings.TrimSpace(string(out))
}

// write creates or replaces files in the work tree; an empty content
// removes the file.
func (u *upstream) write(files map[string]string) {
	u.t.Helper()
	for name, content := range files {
		p := filepath.Join(u.work, filepath.FromSlash(name))
		if content == "" {
			require.NoError(u.t, os.RemoveAll(p))
			continue
		}
		require.NoError(u.t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(u.t, os.WriteFile(p, []byte(content), 0o644))
	}
}

func (u *upstream) symlink(target, name string) {
	u.t.Helper()
	p := filepath.Join(u.work, filepath.FromSlash(name))
	require.NoError(u.t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(u.t, os.Symlink(target, p))
}

// commit records the work tree and force-pushes the current branch.
func (u *upstream) commit(msg string, files map[string]string) string {
	u.t.Helper()
	u.write(files)
	u.git(u.work, "add", "-A")
	u.git(u.work, "commit", "--quiet", "--allow-empty", "-m", msg)
	u.push()
	return u.head()
}

func (u *upstream) push() {
	u.t.Helper()
	u.git(u.work, "push", "--quiet", "--force", "origin", "HEAD:refs/heads/"+u.branch)
}

func (u *upstream) head() string {
	u.t.Helper()
	return u.git(u.work, "rev-parse", "HEAD")
}

// resetTo moves the work branch back to sha (to be force-pushed later).
func (u *upstream) resetTo(sha string) {
	u.t.Helper()
	u.git(u.work, "reset", "--quiet", "--hard", sha)
}

// history creates n commits at once with fast-import, each changing one
// file, on top of the current head (there must be one), and pushes them.
func (u *upstream) history(n int) []string {
	u.t.Helper()
	parent := u.head()
	var in strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&in, "commit refs/heads/%s\nmark :%d\ncommitter t <t@example.com> %d +0000\ndata 4\nc%03d\n", u.branch, i+1, 1700000000+i, i%1000)
		if i == 0 {
			fmt.Fprintf(&in, "from %s\n", parent)
		}
		content := fmt.Sprintf("n: %d\n", i)
		fmt.Fprintf(&in, "M 644 inline history.yaml\ndata %d\n%s\n", len(content), content)
	}
	cmd := exec.Command("git", "fast-import", "--quiet", "--force")
	cmd.Dir = u.work
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.CombinedOutput()
	require.NoError(u.t, err, "fast-import: %s", out)
	u.git(u.work, "reset", "--quiet", "--hard", u.branch)
	u.push()
	shas := strings.Fields(u.git(u.work, "rev-list", "--reverse", "--first-parent", "-n", fmt.Sprint(n), "HEAD"))
	require.Len(u.t, shas, n)
	return shas
}

func newSource(t *testing.T, opts gitsource.Options) *gitsource.Source {
	t.Helper()
	if opts.CacheDir == "" {
		opts.CacheDir = t.TempDir()
	}
	src, err := gitsource.New(opts)
	require.NoError(t, err)
	return src
}

func syncTo(t *testing.T, src *gitsource.Source, want string) {
	t.Helper()
	head, err := src.Sync(context.Background())
	require.NoError(t, err)
	require.Equal(t, want, head)
}

// bigDir commits, on top of the head, a directory dir (at the root) of n
// empty files whose names are pad digits long, and pushes it. The work
// tree is left as it was (checking out n files is slow).
func (u *upstream) bigDir(dir string, n, pad int) string {
	u.t.Helper()
	empty := u.git(u.work, "hash-object", "-w", "--stdin")
	var in strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&in, "100644 blob %s\t%0*d\n", empty, pad, i)
	}
	big := u.gitIn(in.String(), "mktree")
	root := u.git(u.work, "ls-tree", "HEAD") + fmt.Sprintf("\n040000 tree %s\t%s\n", big, dir)
	sha := u.git(u.work, "commit-tree", "-p", "HEAD", "-m", "big", u.gitIn(root, "mktree"))
	u.git(u.work, "update-ref", "HEAD", sha)
	u.push()
	return sha
}

func (u *upstream) gitIn(stdin string, args ...string) string {
	u.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = u.work
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	require.NoError(u.t, err, "git %s: %s", strings.Join(args, " "), out)
	return strings.TrimSpace(string(out))
}
