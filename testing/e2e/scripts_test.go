package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/testing/cluster"
)

// bumpImage runs ci-examples/bin/bump-image.sh as a pipeline would, with
// env added to its environment, and returns the sha it pushed.
func bumpImage(t *testing.T, e *env, tag string, env ...string) string {
	t.Helper()
	root, err := cluster.RepoRoot()
	require.NoError(t, err)
	cmd := exec.Command(filepath.Join(root, "ci-examples", "bin", "bump-image.sh"))
	cmd.Env = append(os.Environ(), "CONFIG_REPO="+e.git.HTTPURL(e.repo.Name), "CLUSTER=e2e", "NAMESPACE="+e.ns,
		"DEPLOYMENT=web", "TAG="+tag, "GIT_AUTHOR_NAME=ci", "GIT_AUTHOR_EMAIL=ci@example.com",
		"GIT_COMMITTER_NAME=ci", "GIT_COMMITTER_EMAIL=ci@example.com")
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.Output()
	require.NoError(t, err, "%s", out)
	sha := strings.TrimSpace(string(out))
	require.Len(t, sha, 40)
	// Keep the test's working clone in step with what CI pushed.
	pull := exec.Command("git", "pull", "--quiet", "--rebase", "origin", "main")
	pull.Dir = e.repo.Dir()
	b, err := pull.CombinedOutput()
	require.NoError(t, err, "%s", b)
	return sha
}

func curlWait(t *testing.T, e *env, sha, timeout string, env ...string) (int, string) {
	t.Helper()
	root, _ := cluster.RepoRoot()
	cmd := exec.Command(filepath.Join(root, "ci-examples", "bin", "wait-curl.sh"))
	cmd.Env = append(append(os.Environ(), "SYNCGATE_URL="+e.url, "SHA="+sha, "NAMESPACE="+e.ns, "TIMEOUT="+timeout), env...)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	}
	require.NoError(t, err)
	return 0, string(out)
}

func TestCIExampleScripts(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed")
	}
	e := newEnv(t)
	ns := e.ns
	e.commit("base", map[string]string{
		ns + "/deploy.yaml":             deployment("web", "registry.example.com/web:1", ""),
		"e2e/" + ns + "/images_path":    "registry.example.com/team\n",
		"e2e/" + ns + "/web.deployment": "1.0.0\n",
	})
	e.start()

	// The CI building blocks read the outcome from RESULT_FILE, one
	// dotenv line each, whichever way the script waited.
	result := filepath.Join(t.TempDir(), "syncgate.env")
	outcome := func() string {
		b, err := os.ReadFile(result)
		require.NoError(t, err)
		return string(b)
	}
	good := bumpImage(t, e, "1.1.0")
	code, out := curlWait(t, e, good, "90", "RESULT_FILE="+result)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, good[:7]+": deployed")
	require.Equal(t, "SYNCGATE_STATE=deployed\nSYNCGATE_REASON=\nSYNCGATE_STATUS_URL="+e.url+"/status/"+good+"\n", outcome())
	code, out = curlWait(t, e, good, "90", "RESULT_FILE="+result, "SYNCGATE_BIN="+syncgateBinary(t))
	require.Equal(t, 0, code, out)
	require.Contains(t, out, good[:7]+" deployed")
	require.Contains(t, outcome(), "SYNCGATE_STATE=deployed\n")

	bad := e.commit("crash", map[string]string{ns + "/deploy.yaml": deployment("web", "registry.example.com/web:1", "syncgate.dev/test-fail: imagepull")})
	code, out = curlWait(t, e, bad, "90", "RESULT_FILE="+result)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "ImagePullBackOff")
	require.Regexp(t, `^SYNCGATE_STATE=failed\nSYNCGATE_REASON=`+ns+`: Deployment web: pod \S+ container web: ImagePullBackOff \(Back-off pulling image\)\n`, outcome())
	code, out = curlWait(t, e, bad, "90", "RESULT_FILE="+result, "SYNCGATE_BIN="+syncgateBinary(t))
	require.Equal(t, 1, code, out)
	require.Regexp(t, `^SYNCGATE_STATE=failed\nSYNCGATE_REASON=.*ImagePullBackOff`, outcome())

	code, out = curlWait(t, e, "0123456789abcdef0123456789abcdef01234567", "30", "RESULT_FILE="+result)
	require.Equal(t, 3, code, out)
	require.Contains(t, outcome(), "SYNCGATE_STATE=error\nSYNCGATE_REASON=")

	slow := e.commit("slow", map[string]string{ns + "/deploy.yaml": deployment("web", "registry.example.com/web:1", `syncgate.dev/test-ready-after: "1h"`)})
	code, out = curlWait(t, e, slow, "3", "RESULT_FILE="+result)
	require.Equal(t, 2, code, out)
	require.Contains(t, outcome(), "SYNCGATE_STATE=timeout\nSYNCGATE_REASON=not final after 3s\n")
}

// wait-curl.sh judges what it is given as `syncgate wait` does, whichever
// way it waits: for each input, the script with curl, the script running
// the binary, and `syncgate wait` itself exit alike (3 for a usage error,
// at once), and the script's RESULT_FILE says error with the reason. Its
// TIMEOUT is seconds only: a Go duration is refused both ways (the binary
// way once read "15m" as 15 ms).
func TestWaitScriptJudgesAsTheBinary(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed")
	}
	bin := syncgateBinary(t)
	root, err := cluster.RepoRoot()
	require.NoError(t, err)
	script := filepath.Join(root, "ci-examples", "bin", "wait-curl.sh")
	const unreachable, sha = "http://127.0.0.1:1", "abcdef1"
	type input struct{ url, sha, timeout string }
	for _, tc := range []struct {
		name     string
		in       input
		want     int
		asBinary bool // the binary's --timeout takes the same text
	}{
		{"timeout 0", input{unreachable, sha, "0"}, 3, true},
		{"timeout 00", input{unreachable, sha, "00"}, 3, true},
		{"negative timeout", input{unreachable, sha, "-5"}, 3, true},
		{"timeout not a number", input{unreachable, sha, "soon"}, 3, true},
		{"timeout not whole seconds", input{unreachable, sha, "1.5"}, 3, true},
		{"timeout more than a year", input{unreachable, sha, "31536001"}, 3, true},
		{"timeout too long for a number", input{unreachable, sha, "99999999999999999999"}, 3, true},
		{"timeout a Go duration", input{unreachable, sha, "15m"}, 3, false},
		{"no url", input{"", sha, "30"}, 3, true},
		{"url with no scheme", input{"syncgate.example.com", sha, "30"}, 3, true},
		{"url not http", input{"ftp://example", sha, "30"}, 3, true},
		{"url with no host", input{"http:///wait", sha, "30"}, 3, true},
		{"url with a query", input{unreachable + "/?x=1", sha, "30"}, 3, true},
		{"not a sha", input{unreachable, "abc", "30"}, 3, true},
		{"a second", input{unreachable, sha, "1"}, 2, true},
		{"a second with leading zeros", input{unreachable + "/", sha, "0001"}, 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, way := range []string{"curl", bin} {
				result := filepath.Join(t.TempDir(), "syncgate.env")
				cmd := exec.Command(script)
				cmd.Env = append(cmd.Environ(), "SYNCGATE_URL="+tc.in.url, "SHA="+tc.in.sha, "TIMEOUT="+tc.in.timeout,
					"SYNCGATE_BIN="+way, "RESULT_FILE="+result)
				code, out := exitCode(t, cmd)
				require.Equal(t, tc.want, code, "%s way: %s", filepath.Base(way), out)
				b, err := os.ReadFile(result)
				require.NoError(t, err, "%s way: %s", filepath.Base(way), out)
				if tc.want == 3 {
					require.Regexp(t, `^SYNCGATE_STATE=error\nSYNCGATE_REASON=\S`, string(b), "%s way", filepath.Base(way))
				} else {
					require.Contains(t, string(b), "SYNCGATE_STATE=timeout\n", "%s way", filepath.Base(way))
				}
			}
			if !tc.asBinary {
				return
			}
			args := []string{"wait", tc.in.sha, "--timeout", tc.in.timeout}
			if tc.in.url != "" {
				args = append(args, "--url", tc.in.url)
			}
			code, out := exitCode(t, exec.Command(bin, args...))
			require.Equal(t, tc.want, code, "syncgate %v: %s", args, out)
		})
	}
}

// exitCode runs cmd, for 30 s at most (none of the inputs it is given
// may be waited on longer), and returns its exit code and output.
func exitCode(t *testing.T, cmd *exec.Cmd) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bounded := exec.CommandContext(ctx, cmd.Path, cmd.Args[1:]...)
	bounded.Env, bounded.WaitDelay = cmd.Env, time.Second
	out, err := bounded.CombinedOutput()
	require.NoError(t, ctx.Err(), "%v still running after 30 s: %s", cmd.Args, out)
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	}
	require.NoError(t, err)
	return 0, string(out)
}
