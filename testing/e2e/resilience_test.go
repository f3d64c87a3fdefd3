package e2e

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/status"
)

// A rollout in progress when syncgate dies is finished by the next process
// and recorded once.
func TestRestartInTheMiddleOfARollout(t *testing.T) {
	e := newEnv(t)
	ns := e.ns
	first := e.commit("base", map[string]string{ns + "/deploy.yaml": deployment("web", "registry.example.com/web:1", "")})
	e.start()
	code, _ := e.waitFinal(first)
	require.Equal(t, http.StatusOK, code)

	slow := e.commit("slow", map[string]string{ns + "/deploy.yaml": deployment("web", "registry.example.com/web:2", `syncgate.dev/test-ready-after: "6s"`)})
	require.Eventually(t, func() bool {
		c := findCommit(e, slow)
		return c != nil && c.State == status.RollingOut
	}, 30*time.Second, 20*time.Millisecond)
	e.stop(true) // killed, no goodbye
	e.start()

	code, body := e.waitFinal(slow)
	require.Equal(t, http.StatusOK, code, body)
	v := e.version()
	require.Equal(t, slow, v.Status.Deployed)
	n := 0
	for _, c := range v.Status.History {
		if c.SHA == slow {
			n++
		}
	}
	require.Equal(t, 1, n, "recorded once")
	require.Eventually(t, func() bool { return len(e.version().Status.Owed) == 0 }, 10*time.Second, 20*time.Millisecond, "every owed report delivered")
}

func findCommit(e *env, sha string) *struct {
	State status.State
} {
	for _, c := range e.version().Status.History {
		if c.SHA == sha {
			return &struct{ State status.State }{c.State}
		}
	}
	return nil
}

// syncgate wait rides out the gateway going away and coming back.
func TestWaitSurvivesGatewayRestart(t *testing.T) {
	e := newEnv(t)
	ns := e.ns
	e.commit("base", map[string]string{ns + "/deploy.yaml": deployment("web", "registry.example.com/web:1", "")})
	e.start()
	slow := e.commit("slow", map[string]string{ns + "/deploy.yaml": deployment("web", "registry.example.com/web:2", `syncgate.dev/test-ready-after: "5s"`)})

	cmd := exec.Command(syncgateBinary(t), "wait", slow, "--url", e.url, "--namespace", ns, "--timeout", "2m")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "rolling out") }, 60*time.Second, 20*time.Millisecond)
	e.stop()
	e.start()
	require.NoError(t, cmd.Wait(), out.String())
	require.Contains(t, out.String(), "deployed")
}

// A signed push webhook starts a sync at once; a forged one starts nothing.
func TestPushWebhooks(t *testing.T) {
	e := newEnv(t, "GIT_SYNC_INTERVAL=1h")
	ns := e.ns
	first := e.commit("base", map[string]string{ns + "/deploy.yaml": deployment("web", "registry.example.com/web:1", "")})
	e.start()
	// Start-up fetches once; the first commit needs no webhook.
	code, _ := e.waitFinal(first)
	require.Equal(t, http.StatusOK, code)

	post := func(path string, body []byte, hdr map[string]string) int {
		req, _ := http.NewRequest(http.MethodPost, e.url+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	seen := func(sha string) bool { return findCommit(e, sha) != nil }

	second := e.commit("second", map[string]string{ns + "/deploy.yaml": deployment("web", "registry.example.com/web:2", "")})
	payload, _ := json.Marshal(map[string]any{"ref": "refs/heads/main", "after": second})
	require.Equal(t, http.StatusUnauthorized, post("/hooks/github", payload, map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": "sha256=" + strings.Repeat("0", 64)}))
	require.Equal(t, http.StatusUnauthorized, post("/hooks/gitlab", payload, map[string]string{"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": "guess"}))
	require.Never(t, func() bool { return seen(second) }, 2*time.Second, 50*time.Millisecond, "a forged webhook starts nothing")

	m := hmac.New(sha256.New, []byte(e.secret))
	m.Write(payload)
	start := time.Now()
	require.Equal(t, http.StatusAccepted, post("/hooks/github", payload, map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": "sha256=" + hex.EncodeToString(m.Sum(nil))}))
	require.Eventually(t, func() bool { return seen(second) }, time.Second, 10*time.Millisecond, "sync starts within a second")
	t.Logf("github webhook to sync start: %s", time.Since(start))

	third := e.commit("third", map[string]string{ns + "/deploy.yaml": deployment("web", "registry.example.com/web:3", "")})
	payload, _ = json.Marshal(map[string]any{"ref": "refs/heads/main", "after": third})
	start = time.Now()
	require.Equal(t, http.StatusAccepted, post("/hooks/gitlab", payload, map[string]string{"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": e.secret}))
	require.Eventually(t, func() bool { return seen(third) }, time.Second, 10*time.Millisecond)
	t.Logf("gitlab webhook to sync start: %s", time.Since(start))
	code, _ = e.waitFinal(third)
	require.Equal(t, http.StatusOK, code)
}

// The config repo over SSH, host key checked against known_hosts.
func TestSSHRemote(t *testing.T) {
	e := newEnv(t)
	g, err := gitserverWithSSH(t)
	require.NoError(t, err)
	repo, err := g.CreateRepo("config")
	require.NoError(t, err)
	e.git, e.repo = g, repo
	ns := e.ns
	sha := e.commit("base", map[string]string{ns + "/cm.yaml": cm})
	e.extra = append(e.extra, "CONFIG_REPO="+g.SSHURL("config"), "GIT_SSH_KEY="+g.SSHKeyPath(), "GIT_KNOWN_HOSTS="+g.KnownHostsPath())
	e.start()
	code, body := e.waitFinal(sha)
	require.Equal(t, http.StatusOK, code, body)
}
