package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/testing/cirunner"
	"github.com/syncgate/syncgate/testing/cluster"
)

// seedSample commits the sample config repo of ci-examples/config-repo
// (namespace demo on cluster local) as the env's namespace on its cluster,
// and returns the commit.
func seedSample(t *testing.T, e *env) string {
	t.Helper()
	root, err := cluster.RepoRoot()
	require.NoError(t, err)
	files := map[string]string{}
	for from, to := range map[string]string{"demo": e.ns, "local/demo": cluster1 + "/" + e.ns} {
		dir := filepath.Join(root, "ci-examples", "config-repo", from)
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		for _, de := range entries {
			if de.IsDir() {
				continue
			}
			b, err := os.ReadFile(filepath.Join(dir, de.Name()))
			require.NoError(t, err)
			files[to+"/"+de.Name()] = string(b)
		}
	}
	return e.commit("Sample config repo", files)
}

// ciProject is a checkout a runner works in: the building blocks of
// ci-examples and one pipeline file, in a git repository of its own.
func ciProject(t *testing.T, pipeline, as string) string {
	t.Helper()
	root, err := cluster.RepoRoot()
	require.NoError(t, err)
	dir := t.TempDir()
	for _, sub := range []string{"bin", "github-action", "gitlab"} {
		cp := exec.Command("cp", "-r", filepath.Join(root, "ci-examples", sub), filepath.Join(dir, "ci-examples", sub))
		require.NoError(t, os.MkdirAll(filepath.Join(dir, "ci-examples"), 0o755))
		out, err := cp.CombinedOutput()
		require.NoError(t, err, "%s", out)
	}
	b, err := os.ReadFile(filepath.Join(root, "testing", "e2e", "testdata", "ci", pipeline))
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, as)), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, as), b, 0o644))
	for _, args := range [][]string{
		{"init", "--quiet", "--initial-branch", "main"},
		{"remote", "add", "origin", "https://git.example.com/team/app.git"},
		{"add", "-A"},
		{"-c", "user.name=ci", "-c", "user.email=ci@example.com", "commit", "--quiet", "-m", "app"},
	} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "git %v: %s", args, out)
	}
	return dir
}

// runPipeline runs a runner in dir and returns its exit code and log.
func runPipeline(t *testing.T, dir, bin string, args []string, env ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	t.Logf("%s %s:\n%s", filepath.Base(bin), strings.Join(args, " "), out.String())
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String()
	}
	require.NoError(t, err)
	return 0, out.String()
}

// TestCIBuildingBlocks runs the building blocks of ci-examples in real
// runners against a running syncgate: act runs a GitHub workflow using
// ci-examples/github-action, gitlab-ci-local a pipeline extending
// ci-examples/gitlab's .syncgate-wait, both on this host (no container
// engine). An image bump that deploys passes the job; one that crashloops
// fails it, with the reason in its log. (The Jenkins step runs the same
// wait-curl.sh, tested in TestCIExampleScripts.)
func TestCIBuildingBlocks(t *testing.T) {
	e := newEnv(t, "HEALTH_TIMEOUT=90s")
	seed := seedSample(t, e)
	e.start()
	code, body := e.waitFinal(seed)
	require.Equal(t, 200, code, "%v", body)
	vars := map[string]string{
		"SYNCGATE_URL": e.url, "NAMESPACE": e.ns, "CLUSTER": cluster1, "CONFIG_REPO": e.git.HTTPURL(e.repo.Name),
	}
	gitEnv := []string{"GIT_AUTHOR_NAME=ci", "GIT_AUTHOR_EMAIL=ci@example.com", "GIT_COMMITTER_NAME=ci", "GIT_COMMITTER_EMAIL=ci@example.com"}
	ctx := context.Background()

	t.Run("github action in act", func(t *testing.T) {
		act, err := cirunner.ActBinary(ctx, t.Logf)
		if err != nil {
			t.Skipf("SKIPPED: act (GitHub Actions runner) cannot be had here, so the GitHub action is not run: %v", err)
		}
		dir := ciProject(t, "github/deploy.yml", ".github/workflows/deploy.yml")
		run := func(tag string) (int, string) {
			args := []string{"push", "-P", "ubuntu-latest=-self-hosted", "--no-cache-server", "--action-offline-mode"}
			for k, v := range vars {
				args = append(args, "--var", k+"="+v)
			}
			args = append(args, "--var", "TAG="+tag)
			return runPipeline(t, dir, act, args, append(gitEnv, "XDG_CACHE_HOME="+t.TempDir())...)
		}
		code, out := run("1.1.0")
		require.Equal(t, 0, code, out)
		require.Contains(t, out, "::set-output:: state=deployed")
		require.Contains(t, out, "Summary - :white_check_mark:")
		require.Contains(t, out, "/status/")

		code, out = run("1.2.0" + cluster.CrashloopTag)
		require.NotEqual(t, 0, code, out)
		require.Contains(t, out, "::set-output:: state=failed")
		require.Contains(t, out, "CrashLoopBackOff")
		require.Contains(t, out, "outcome failed (")
	})

	t.Run("gitlab template in gitlab-ci-local", func(t *testing.T) {
		gcl, err := cirunner.GitLabCILocalBinary(ctx, t.Logf)
		if err != nil {
			t.Skipf("SKIPPED: gitlab-ci-local (GitLab pipeline runner) cannot be had here, so the GitLab template is not run: %v", err)
		}
		if _, err := exec.LookPath("rsync"); err != nil {
			t.Skipf("SKIPPED: gitlab-ci-local needs rsync (make deps installs it): %v", err)
		}
		dir := ciProject(t, "gitlab/.gitlab-ci.yml", ".gitlab-ci.yml")
		run := func(tag string) (int, string) {
			var args []string
			for k, v := range vars {
				args = append(args, "--variable", k+"="+v)
			}
			args = append(args, "--variable", "TAG="+tag)
			return runPipeline(t, dir, gcl, args, gitEnv...)
		}
		code, out := run("1.3.0")
		require.Equal(t, 0, code, out)
		require.Contains(t, out, ": deployed")
		require.Contains(t, out, "outcome deployed ()")

		code, out = run("1.4.0" + cluster.CrashloopTag)
		require.NotEqual(t, 0, code, out)
		require.Contains(t, out, "FAIL  deploy")
		require.Contains(t, out, "CrashLoopBackOff")
		require.Contains(t, out, "outcome failed (")
	})
}
