package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

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
