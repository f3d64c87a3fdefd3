package gitserver_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	git "github.com/go-git/go-git/v5"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/testing/gitserver"
)

// push commits a file in a fresh clone made with the git CLI and pushes it.
func push(t *testing.T, url string, env ...string) string {
	t.Helper()
	dir := t.TempDir()
	run := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com"), env...)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "git %v: %s", args, out)
		return strings.TrimSpace(string(out))
	}
	run("init", "--quiet", "--initial-branch=main")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.yaml"), []byte("x: 1\n"), 0o644))
	run("add", "a.yaml")
	run("commit", "--quiet", "-m", "a")
	run("push", "--quiet", url, "HEAD:refs/heads/main")
	return run("rev-parse", "HEAD")
}

func TestPushAndCloneOverHTTPAndSSH(t *testing.T) {
	s, err := gitserver.Start(context.Background(), gitserver.Options{Token: "tok", SSH: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })

	_, err = s.CreateRepo("over-http")
	require.NoError(t, err)
	sha := push(t, s.HTTPURLWithToken("over-http"))
	repo, err := git.PlainClone(t.TempDir(), false, &git.CloneOptions{URL: s.HTTPURL("over-http"), Auth: &githttp.BasicAuth{Username: "git", Password: "tok"}})
	require.NoError(t, err)
	head, err := repo.Head()
	require.NoError(t, err)
	require.Equal(t, sha, head.Hash().String())
	_, err = git.PlainClone(t.TempDir(), false, &git.CloneOptions{URL: s.HTTPURL("over-http"), Auth: &githttp.BasicAuth{Username: "git", Password: "wrong"}})
	require.Error(t, err, "a wrong token is refused")

	_, err = s.CreateRepo("over-ssh")
	require.NoError(t, err)
	sha = push(t, s.SSHURL("over-ssh"), "GIT_SSH_COMMAND="+s.SSHCommand())
	keys, err := gitssh.NewPublicKeysFromFile(strings.Split(strings.TrimPrefix(s.SSHURL("over-ssh"), "ssh://"), "@")[0], s.SSHKeyPath(), "")
	require.NoError(t, err)
	keys.HostKeyCallback, err = gitssh.NewKnownHostsCallback(s.KnownHostsPath())
	require.NoError(t, err)
	repo, err = git.PlainClone(t.TempDir(), false, &git.CloneOptions{URL: s.SSHURL("over-ssh"), Auth: keys})
	require.NoError(t, err)
	head, err = repo.Head()
	require.NoError(t, err)
	require.Equal(t, sha, head.Hash().String())
}
