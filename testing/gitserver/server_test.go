package gitserver_test

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/testing/gitserver"
)

func clone(t *testing.T, url string, auth transport.AuthMethod) (*git.Repository, error) {
	t.Helper()
	return git.PlainCloneContext(context.Background(), t.TempDir(), false, &git.CloneOptions{URL: url, Auth: auth})
}

func headOf(t *testing.T, repo *git.Repository) string {
	t.Helper()
	ref, err := repo.Head()
	require.NoError(t, err)
	return ref.Hash().String()
}

func TestCloneOverHTTP(t *testing.T) {
	open := gitserver.StartT(t, gitserver.Options{})
	guarded := gitserver.StartT(t, gitserver.Options{Token: "tok-123"})
	named := gitserver.StartT(t, gitserver.Options{Token: "tok-456", Username: "bot"})
	want := map[*gitserver.Server]string{}
	for _, s := range []*gitserver.Server{open, guarded, named} {
		want[s] = s.CreateRepoT(t, "config").CommitT(t, "first", map[string]string{"team/cm.yaml": "kind: ConfigMap\n"})
	}

	for _, tc := range []struct {
		name    string
		srv     *gitserver.Server
		auth    transport.AuthMethod
		refused error
	}{
		{name: "anonymous on an open server", srv: open},
		{name: "token", srv: guarded, auth: &githttp.BasicAuth{Username: "x-access-token", Password: "tok-123"}},
		{name: "no token", srv: guarded, refused: transport.ErrAuthenticationRequired},
		{name: "wrong token", srv: guarded, auth: &githttp.BasicAuth{Username: "x-access-token", Password: "tok-999"}, refused: transport.ErrAuthenticationRequired},
		{name: "configured user", srv: named, auth: &githttp.BasicAuth{Username: "bot", Password: "tok-456"}},
		{name: "another user", srv: named, auth: &githttp.BasicAuth{Username: "someone", Password: "tok-456"}, refused: transport.ErrAuthenticationRequired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			repo, err := clone(t, tc.srv.HTTPURL("config"), tc.auth)
			if tc.refused != nil {
				require.ErrorIs(t, err, tc.refused)
				return
			}
			require.NoError(t, err)
			require.Equal(t, want[tc.srv], headOf(t, repo))
		})
	}

	t.Run("401 names the scheme", func(t *testing.T) {
		resp, err := http.Get("http://" + guarded.HTTPAddr() + "/config.git/info/refs?service=git-upload-pack")
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		require.Contains(t, resp.Header.Get("WWW-Authenticate"), "Basic")
	})
	t.Run("unknown repository", func(t *testing.T) {
		_, err := clone(t, open.HTTPURL("missing"), nil)
		require.Error(t, err)
	})
}

func sshAuth(t *testing.T, s *gitserver.Server, knownHosts string) *gitssh.PublicKeys {
	t.Helper()
	keys, err := gitssh.NewPublicKeysFromFile(s.SSHUser(), s.SSHKeyPath(), "")
	require.NoError(t, err)
	keys.HostKeyCallback, err = gitssh.NewKnownHostsCallback(knownHosts)
	require.NoError(t, err)
	return keys
}

func TestCloneOverSSH(t *testing.T) {
	s := gitserver.StartT(t, gitserver.Options{SSH: true})
	other := gitserver.StartT(t, gitserver.Options{SSH: true})
	sha := s.CreateRepoT(t, "config").CommitT(t, "first", map[string]string{"a.yaml": "a: 1\n"})
	require.True(t, strings.HasPrefix(s.SSHURL("config"), "ssh://"+s.SSHUser()+"@127.0.0.1:"), s.SSHURL("config"))
	require.True(t, strings.HasSuffix(s.SSHURL("config"), s.RepoPath("config")), s.SSHURL("config"))

	repo, err := clone(t, s.SSHURL("config"), sshAuth(t, s, s.KnownHostsPath()))
	require.NoError(t, err)
	require.Equal(t, sha, headOf(t, repo))

	_, err = clone(t, s.SSHURL("config"), sshAuth(t, s, other.KnownHostsPath()))
	require.ErrorContains(t, err, "key is unknown", "a host missing from known_hosts is refused")

	// The right address with another server's key: a man in the middle.
	ours, err := os.ReadFile(s.KnownHostsPath())
	require.NoError(t, err)
	theirs, err := os.ReadFile(other.KnownHostsPath())
	require.NoError(t, err)
	forged := strings.Fields(string(ours))[0] + " " + strings.Join(strings.Fields(string(theirs))[1:], " ") + "\n"
	forgedPath := filepath.Join(t.TempDir(), "known_hosts")
	require.NoError(t, os.WriteFile(forgedPath, []byte(forged), 0o600))
	_, err = clone(t, s.SSHURL("config"), sshAuth(t, s, forgedPath))
	require.ErrorContains(t, err, "key mismatch", "another host key for the address is refused")

	stranger, err := gitssh.NewPublicKeysFromFile(s.SSHUser(), other.SSHKeyPath(), "")
	require.NoError(t, err)
	stranger.HostKeyCallback, err = gitssh.NewKnownHostsCallback(s.KnownHostsPath())
	require.NoError(t, err)
	_, err = clone(t, s.SSHURL("config"), stranger)
	require.ErrorContains(t, err, "unable to authenticate", "a key not in authorized_keys is refused")
}

// commitWithGoGit adds a file in a go-git clone and commits it.
func commitWithGoGit(t *testing.T, repo *git.Repository, name, content string) string {
	t.Helper()
	wt, err := repo.Worktree()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(wt.Filesystem.Root(), name), []byte(content), 0o644))
	_, err = wt.Add(name)
	require.NoError(t, err)
	sig := &object.Signature{Name: "pusher", Email: "pusher@syncgate.invalid", When: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)}
	h, err := wt.Commit("pushed "+name, &git.CommitOptions{Author: sig, Committer: sig})
	require.NoError(t, err)
	return h.String()
}

func TestPushWithGoGit(t *testing.T) {
	s := gitserver.StartT(t, gitserver.Options{Token: "push-token", SSH: true})
	httpAuth := &githttp.BasicAuth{Username: "x-access-token", Password: "push-token"}
	for _, tc := range []struct {
		name string
		url  func(string) string
		auth transport.AuthMethod
	}{
		{"http", s.HTTPURL, httpAuth},
		{"ssh", s.SSHURL, sshAuth(t, s, s.KnownHostsPath())},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.CreateRepoT(t, "push-"+tc.name)
			r.CommitT(t, "seed", map[string]string{"seed.yaml": "seed: 1\n"})
			repo, err := clone(t, tc.url(r.Name), tc.auth)
			require.NoError(t, err)
			sha := commitWithGoGit(t, repo, "pushed.yaml", "by: "+tc.name+"\n")
			require.NoError(t, repo.PushContext(context.Background(), &git.PushOptions{Auth: tc.auth}))
			got, err := r.ServerHead("main")
			require.NoError(t, err)
			require.Equal(t, sha, got, "the pushed commit is the server's main")
		})
	}
	t.Run("http push with a wrong token", func(t *testing.T) {
		r := s.CreateRepoT(t, "push-refused")
		before := r.CommitT(t, "seed", nil)
		repo, err := clone(t, s.HTTPURL(r.Name), httpAuth)
		require.NoError(t, err)
		commitWithGoGit(t, repo, "x.yaml", "x: 1\n")
		err = repo.PushContext(context.Background(), &git.PushOptions{Auth: &githttp.BasicAuth{Username: "x", Password: "nope"}})
		require.ErrorIs(t, err, transport.ErrAuthenticationRequired)
		got, err := r.ServerHead("main")
		require.NoError(t, err)
		require.Equal(t, before, got)
	})
	t.Run("git command line over ssh", func(t *testing.T) {
		r := s.CreateRepoT(t, "push-cli")
		dir := t.TempDir()
		run := func(args ...string) string {
			cmd := exec.Command("git", args...)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "GIT_SSH_COMMAND="+s.SSHCommand(), "GIT_CONFIG_GLOBAL=/dev/null",
				"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@syncgate.invalid", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@syncgate.invalid")
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "git %v: %s", args, out)
			return strings.TrimSpace(string(out))
		}
		run("init", "--quiet", "--initial-branch=main")
		run("commit", "--quiet", "--allow-empty", "-m", "cli")
		run("push", "--quiet", s.SSHURL(r.Name), "HEAD:refs/heads/main")
		got, err := r.ServerHead("main")
		require.NoError(t, err)
		require.Equal(t, run("rev-parse", "HEAD"), got)
	})
}

func TestRepoHistoryEdits(t *testing.T) {
	s := gitserver.StartT(t, gitserver.Options{})
	r := s.CreateRepoT(t, "config")
	server := func(branch string) string {
		t.Helper()
		sha, err := r.ServerHead(branch)
		require.NoError(t, err)
		return sha
	}
	first := r.CommitT(t, "first", map[string]string{"ns/a.yaml": "a: 1\n", "ns/b.yaml": "b: 1\n"})
	require.NoError(t, r.Remove("ns/b.yaml"))
	second, err := r.Commit("drop b")
	require.NoError(t, err)
	require.Equal(t, second, server("main"))
	repo, err := clone(t, s.HTTPURL("config"), nil)
	require.NoError(t, err)
	tree, err := repo.CommitObject(plumbing.NewHash(second))
	require.NoError(t, err)
	_, err = tree.File("ns/b.yaml")
	require.ErrorIs(t, err, object.ErrFileNotFound, "removed files are gone from the commit")
	require.Equal(t, gitserver.AuthorName, tree.Author.Name)
	require.Equal(t, gitserver.AuthorEmail, tree.Committer.Email)

	t.Run("reset and force-push", func(t *testing.T) {
		require.NoError(t, r.ResetHard(first))
		require.Equal(t, first, server("main"))
		again, err := r.Commit("drop b")
		require.NoError(t, err)
		require.NotEqual(t, second, again, "a repeated commit after a reset gets a sha of its own")
		require.Equal(t, again, server("main"))
	})
	t.Run("push refuses a non-fast-forward, force-push does not", func(t *testing.T) {
		other, err := clone(t, s.HTTPURL("config"), nil)
		require.NoError(t, err)
		theirs := commitWithGoGit(t, other, "theirs.yaml", "t: 1\n")
		require.NoError(t, other.PushContext(context.Background(), &git.PushOptions{}))
		require.Equal(t, theirs, server("main"))

		ours, err := r.CommitLocal("ours")
		require.NoError(t, err)
		require.Equal(t, theirs, server("main"), "not pushed yet")
		require.Error(t, r.Push(), "the server's main is not an ancestor of ours")
		require.NoError(t, r.ForcePush())
		require.Equal(t, ours, server("main"))
	})
	t.Run("branches", func(t *testing.T) {
		require.NoError(t, r.CreateBranch("release", first))
		require.Equal(t, first, server("release"))
		require.NoError(t, r.Checkout("release"))
		require.Equal(t, "release", r.Branch())
		onRelease := r.CommitT(t, "on release", map[string]string{"release.yaml": "r: 1\n"})
		require.Equal(t, onRelease, server("release"))
		require.NotEqual(t, onRelease, server("main"))

		require.NoError(t, r.SetDefaultBranch("release"))
		repo, err := clone(t, s.HTTPURL("config"), nil)
		require.NoError(t, err)
		require.Equal(t, onRelease, headOf(t, repo), "a clone follows the server's HEAD")

		require.NoError(t, r.SetDefaultBranch("main"))
		require.NoError(t, r.DeleteBranch("release"))
		_, err = r.ServerHead("release")
		require.ErrorIs(t, err, gitserver.ErrNoBranch)
		require.NoError(t, r.Checkout("main"))
		head, err := r.Head()
		require.NoError(t, err)
		require.Equal(t, server("main"), head)
	})
	t.Run("symlinks", func(t *testing.T) {
		require.NoError(t, r.Symlink("../etc/passwd", "ns/escape.yaml"))
		sha, err := r.Commit("link")
		require.NoError(t, err)
		repo, err := clone(t, s.HTTPURL("config"), nil)
		require.NoError(t, err)
		c, err := repo.CommitObject(plumbing.NewHash(sha))
		require.NoError(t, err)
		f, err := c.File("ns/escape.yaml")
		require.NoError(t, err)
		require.Equal(t, filemode.Symlink, f.Mode, "stored as a symlink")
	})
	t.Run("paths stay inside the clone", func(t *testing.T) {
		require.Error(t, r.Write(map[string]string{"../outside.yaml": "x"}))
		require.Error(t, r.Write(map[string]string{".git/config": "x"}))
		require.Error(t, r.Remove("/"))
	})
}

func TestCommitsAreReproducible(t *testing.T) {
	steps := func(s *gitserver.Server) []string {
		r := s.CreateRepoT(t, "config")
		a := r.CommitT(t, "a", map[string]string{"a.yaml": "a: 1\n"})
		b := r.CommitT(t, "b", map[string]string{"b.yaml": "b: 1\n"})
		return []string{a, b}
	}
	one := steps(gitserver.StartT(t, gitserver.Options{}))
	two := steps(gitserver.StartT(t, gitserver.Options{Token: "t"}))
	require.Equal(t, one, two)
	require.NotEqual(t, one[0], one[1])
}

func TestCloseRemovesWhatStartMade(t *testing.T) {
	s, err := gitserver.Start(context.Background(), gitserver.Options{SSH: true})
	require.NoError(t, err)
	r, err := s.CreateRepo("config")
	require.NoError(t, err)
	addr := s.HTTPAddr()
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "idempotent")
	_, err = os.Stat(r.BarePath())
	require.ErrorIs(t, err, os.ErrNotExist)
	_, err = http.Get("http://" + addr + "/config.git/info/refs")
	require.Error(t, err, "the HTTP server is down")

	kept := t.TempDir()
	s, err = gitserver.Start(context.Background(), gitserver.Options{Dir: kept})
	require.NoError(t, err)
	_, err = s.CreateRepo("config")
	require.NoError(t, err)
	_, err = s.CreateRepo("config")
	require.Error(t, err, "no second repository of a name")
	require.NoError(t, s.Close())
	_, err = os.Stat(filepath.Join(kept, "repos", "config.git"))
	require.NoError(t, err, "a given Dir is left in place")
}
