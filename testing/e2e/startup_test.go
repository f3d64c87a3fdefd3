package e2e

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// An agent whose kustomize build program is missing, or is not the one it
// was built with, does not start: it exits 3 with one line naming the
// program, before it reads the cluster (none is needed here).
func TestStartupChecksTheBuildProgram(t *testing.T) {
	bin := syncgateBinary(t)
	agent, err := os.ReadFile(bin)
	require.NoError(t, err)
	for _, c := range []struct{ name, program, want string }{
		{"missing", "", "syncgate-render: not found"},
		{"of another protocol", "#!/bin/sh\nexit 4\n", `syncgate-render: does not speak protocol "1"`},
		{"not a build program", "#!/bin/sh\necho hello\n", "syncgate-render: ended without answering the handshake (exit status 0: hello)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "syncgate"), agent, 0o755))
			if c.program != "" {
				require.NoError(t, os.WriteFile(filepath.Join(dir, "syncgate-render"), []byte(c.program), 0o755))
			}
			kubeconfig := filepath.Join(dir, "kubeconfig") // read, of an API server never asked
			require.NoError(t, os.WriteFile(kubeconfig, []byte(kubeconfigOf("https://127.0.0.1:1")), 0o600))
			cmd := exec.Command(filepath.Join(dir, "syncgate"), "run")
			cmd.Env = []string{"CONFIG_REPO=https://git.example.com/config.git", "CLUSTER_NAME=" + cluster1,
				"MANAGED_NAMESPACES=team", "KUBECONFIG=" + kubeconfig}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			require.True(t, errors.As(err, &ee), "it started: %v", err)
			require.Equal(t, 3, ee.ExitCode())
			out := strings.TrimSuffix(stderr.String(), "\n")
			require.NotContains(t, out, "\n", "one line")
			require.True(t, strings.HasPrefix(out, "syncgate: the kustomize build program "+dir), out)
			require.Contains(t, out, c.want)
		})
	}
}

// An agent whose API server serves no discovery it can read (Kubernetes
// older than 1.27) does not start: it exits 3 with one line saying so,
// rather than failing every object of every commit.
func TestStartupChecksDiscovery(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotAcceptable)
		_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotAcceptable","code":406}`))
	}))
	defer api.Close()
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	require.NoError(t, os.WriteFile(kubeconfig, []byte(kubeconfigOf(api.URL)), 0o600))
	// Started, it would run until killed.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, syncgateBinary(t), "run")
	cmd.Env = []string{"CONFIG_REPO=https://git.example.com/config.git", "CLUSTER_NAME=" + cluster1,
		"MANAGED_NAMESPACES=team", "KUBECONFIG=" + kubeconfig, "CACHE_DIR=" + dir,
		"LISTEN_ADDR=127.0.0.1:0", "PROBE_ADDR="} // bound before discovery: no default port to contend for
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	require.True(t, errors.As(err, &ee), "it started: %v", err)
	require.NoError(t, ctx.Err(), "it started")
	require.Equal(t, 3, ee.ExitCode(), stderr.String())
	out := strings.TrimSuffix(stderr.String(), "\n")
	require.NotContains(t, out, "\n", "one line")
	require.Equal(t, "syncgate: kubernetes discovery: discover /api: the API server does not serve aggregated discovery (apidiscovery.k8s.io v2 or v2beta1): Kubernetes 1.27 or later is needed", out)
}

// kubeconfigOf is a kubeconfig of the API server at url, with no
// credentials.
func kubeconfigOf(url string) string {
	return "apiVersion: v1\nkind: Config\nclusters:\n- name: old\n  cluster:\n    server: " + url +
		"\ncontexts:\n- name: old\n  context:\n    cluster: old\n    user: old\nusers:\n- name: old\n  user: {}\ncurrent-context: old\n"
}
