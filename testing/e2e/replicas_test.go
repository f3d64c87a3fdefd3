package e2e

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/syncgate/syncgate/testing/demo"
)

// Two replicas: one holds the Lease and applies, both answer /wait.
func TestTwoReplicas(t *testing.T) {
	e := newEnv(t, "POD_NAME=replica-a")
	ns := e.ns
	sha := e.commit("base", map[string]string{ns + "/deploy.yaml": deployment("web", "registry.example.com/web:1", "")})
	e.start()
	code, _ := e.waitFinal(sha)
	require.Equal(t, http.StatusOK, code)

	logB := filepath.Join(t.TempDir(), "b.log")
	b := e.startReplica("replica-b", logB)

	lease, err := e.kube.CoordinationV1().Leases(ns).Get(context.Background(), "syncgate-leader", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, "replica-a", *lease.Spec.HolderIdentity)

	next := e.commit("next", map[string]string{ns + "/deploy.yaml": deployment("web", "registry.example.com/web:2", "")})
	code, _ = e.waitFinal(next)
	require.Equal(t, http.StatusOK, code)
	// The follower answers from its own informer.
	require.Eventually(t, func() bool {
		resp, err := http.Get(b.URL + "/wait/" + next + "?namespace=" + ns + "&timeout=5s")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 100*time.Millisecond)
	logs, err := os.ReadFile(logB)
	require.NoError(t, err)
	require.NotContains(t, string(logs), "leading: applying commits", "the follower never applies")
	require.NotContains(t, string(logs), "commit applied")
	require.True(t, strings.Contains(string(logs), "leader elected"), "the follower saw the leader")
}

// WAIT_TOKEN guards /wait; the CLI reports a timeout with exit code 2.
func TestTokenAndCLITimeout(t *testing.T) {
	e := newEnv(t, "WAIT_TOKEN=s3cret")
	ns := e.ns
	e.commit("base", map[string]string{ns + "/deploy.yaml": deployment("web", "registry.example.com/web:1", "")})
	e.start()
	slow := e.commit("slow", map[string]string{ns + "/deploy.yaml": deployment("web", "registry.example.com/web:2", `syncgate.dev/test-ready-after: "1h"`)})

	code, _ := e.wait(slow, "namespace="+ns)
	require.Equal(t, http.StatusUnauthorized, code)
	code, out := e.runCLI("wait", slow, "--url", e.url, "--namespace", ns, "--timeout", "5s")
	require.Equal(t, 3, code, out)
	code, out = e.runCLI("wait", slow, "--url", e.url, "--namespace", ns, "--timeout", "5s", "--token", "s3cret")
	require.Equal(t, 2, code, out)
	code, out = e.runCLI("wait", "not-a-sha", "--url", e.url)
	require.Equal(t, 3, code, out)
}

// A head fetched by a follower (its /wait, or a webhook that reached it)
// is applied by the leader at once, not at the leader's next poll.
func TestFollowerFetchReachesTheLeader(t *testing.T) {
	e := newEnv(t, "POD_NAME=replica-a", "GIT_SYNC_INTERVAL=1h")
	ns := e.ns
	sha := e.commit("base", map[string]string{ns + "/deploy.yaml": deployment("web", "registry.example.com/web:1", "")})
	e.start()
	code, _ := e.waitFinal(sha)
	require.Equal(t, http.StatusOK, code)

	b := e.startReplica("replica-b", filepath.Join(t.TempDir(), "b.log"))

	next := e.commit("next", map[string]string{ns + "/deploy.yaml": deployment("web", "registry.example.com/web:2", "")})
	code, out := e.runCLI("wait", next, "--url", b.URL, "--namespace", ns, "--timeout", "60s")
	require.Equal(t, 0, code, out)
}

// startReplica runs a second syncgate with e's settings as pod name, until
// the test ends.
func (e *env) startReplica(name, logPath string) *demo.Agent {
	e.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(e.t, err)
	addr := ln.Addr().String()
	ln.Close()
	a, err := demo.StartAgent(context.Background(), syncgateBinary(e.t), addr, logPath, append(e.settings(), "POD_NAME="+name))
	require.NoError(e.t, err)
	e.t.Cleanup(func() { a.Stop(15 * time.Second) })
	return a
}
