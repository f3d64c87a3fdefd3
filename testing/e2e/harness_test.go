package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/testing/cluster"
	"github.com/syncgate/syncgate/testing/demo"
	"github.com/syncgate/syncgate/testing/forge"
	"github.com/syncgate/syncgate/testing/gitserver"
	"github.com/syncgate/syncgate/testing/s3server"
)

func TestMain(m *testing.M) { os.Exit(cluster.Main(m, cluster.Options{})) }

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	crdOnce   sync.Once
	crdErr    error
)

// syncgateBinary builds cmd/syncgate once per test run.
func syncgateBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		root, err := cluster.RepoRoot()
		if err != nil {
			buildErr = err
			return
		}
		dir, err := os.MkdirTemp("", "syncgate-e2e-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath, buildErr = demo.BuildSyncgate(context.Background(), root, dir)
	})
	require.NoError(t, buildErr)
	return binPath
}

// installCRD applies deploy/crds to the cluster, with syncgate's own applier.
func installCRD(t *testing.T, c *cluster.Cluster) {
	t.Helper()
	crdOnce.Do(func() {
		root, err := cluster.RepoRoot()
		if err != nil {
			crdErr = err
			return
		}
		crdErr = demo.InstallCRD(context.Background(), c, root)
	})
	require.NoError(t, crdErr)
}

// env is one syncgate under test, with its git repo and S3 bucket.
type env struct {
	t       *testing.T
	c       *cluster.Cluster
	ns      string
	git     *gitserver.Server
	repo    *gitserver.Repo
	s3      *s3server.Server
	url     string
	addr    string
	secret  string
	kube    kubernetes.Interface
	dyn     dynamic.Interface
	extra   []string
	agent   *demo.Agent
	logPath string
}

const cluster1 = "e2e"

func newEnv(t *testing.T, extraEnv ...string) *env {
	t.Helper()
	c := cluster.Shared(t)
	installCRD(t, c)
	ctx := context.Background()
	g, err := gitserver.Start(ctx, gitserver.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = g.Close() })
	repo, err := g.CreateRepo("config")
	require.NoError(t, err)
	s3, err := s3server.Start(ctx, s3server.Options{})
	require.NoError(t, err)
	t.Cleanup(s3.Close)
	require.NoError(t, s3.CreateBucket(ctx, "markers"))
	kube, err := kubernetes.NewForConfig(c.RESTConfig())
	require.NoError(t, err)
	dyn, err := dynamic.NewForConfig(c.RESTConfig())
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	ns := cluster.Namespace(t, c)
	require.NoError(t, demo.BindServiceAccount(ctx, kube, ns))
	e := &env{t: t, c: c, ns: ns, git: g, repo: repo, s3: s3, url: "http://" + addr, addr: addr,
		secret: "webhook-secret", kube: kube, dyn: dyn, extra: extraEnv, logPath: filepath.Join(t.TempDir(), "syncgate.log")}
	t.Cleanup(func() {
		e.stop()
		if t.Failed() {
			b, _ := os.ReadFile(e.logPath)
			t.Logf("syncgate log:\n%s", tail(string(b), 6000))
		}
	})
	return e
}

// githubEnv is an env whose syncgate reports to a fake GitHub holding
// repos, and follows the first of them, with PUBLIC_URL and settings set.
func githubEnv(t *testing.T, repos []string, settings ...string) (*forge.GitHub, *env) {
	t.Helper()
	gh := forge.NewGitHub("ghp_e2e", repos...)
	t.Cleanup(gh.Close)
	e := newEnv(t, append([]string{"GITHUB_API_URL=" + gh.APIURL(), "GITHUB_TOKEN=ghp_e2e", "PUBLIC_URL=https://syncgate.example.com"}, settings...)...)
	repo, err := e.git.CreateRepo(repos[0])
	require.NoError(t, err)
	e.repo = repo
	return gh, e
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// start runs `syncgate run` and waits until it serves.
func (e *env) start() {
	e.t.Helper()
	a, err := demo.StartAgent(context.Background(), syncgateBinary(e.t), e.addr, e.logPath, e.settings())
	require.NoError(e.t, err)
	e.agent = a
}

// settings is the environment syncgate runs with.
func (e *env) settings() []string {
	return append([]string{
		"CONFIG_REPO=" + e.git.HTTPURL(e.repo.Name),
		"CLUSTER_NAME=" + cluster1,
		"MANAGED_NAMESPACES=" + e.ns,
		"POD_NAMESPACE=" + e.ns,
		"KUBECONFIG=" + e.c.KubeconfigPath(),
		"GIT_SYNC_INTERVAL=2s",
		"CACHE_DIR=" + filepath.Join(e.t.TempDir(), "cache"),
		"S3_BUCKET=markers",
		"S3_ENDPOINT=" + e.s3.Endpoint(),
		"WEBHOOK_SECRET=" + e.secret,
		"HEALTH_TIMEOUT=60s",
		"LOG_FORMAT=text",
		"LOG_LEVEL=debug",
	}, append(e.s3.Env(), e.extra...)...)
}

// stop ends syncgate with SIGTERM, or SIGKILL when kill is set.
func (e *env) stop(kill ...bool) {
	if e.agent == nil {
		return
	}
	if len(kill) > 0 && kill[0] {
		e.agent.Kill()
	} else {
		e.agent.Stop(15 * time.Second)
	}
	e.agent = nil
}

// commit writes files (an empty value removes the path) and pushes.
func (e *env) commit(msg string, files map[string]string) string {
	e.t.Helper()
	write := map[string]string{}
	for p, v := range files {
		if v == "" {
			require.NoError(e.t, e.repo.Remove(p))
			continue
		}
		write[p] = v
	}
	require.NoError(e.t, e.repo.Write(write))
	sha, err := e.repo.Commit(msg)
	require.NoError(e.t, err)
	return sha
}

// wait calls /wait and decodes the answer.
func (e *env) wait(sha, query string) (int, map[string]any) {
	e.t.Helper()
	resp, err := http.Get(e.url + "/wait/" + sha + "?" + query)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	var body map[string]any
	require.NoError(e.t, json.NewDecoder(resp.Body).Decode(&body))
	return resp.StatusCode, body
}

// awaitReady waits until the gateway answers /readyz: the Versions listed
// and the repo fetched, so /wait answers from the records, not 503.
func (e *env) awaitReady() {
	e.t.Helper()
	require.Eventually(e.t, func() bool {
		resp, err := http.Get(e.url + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 60*time.Second, 50*time.Millisecond, "the gateway ready")
}

// page asks for path as a browser does and returns the HTML.
func (e *env) page(path string) string {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.url+path, nil)
	require.NoError(e.t, err)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	require.Equal(e.t, http.StatusOK, resp.StatusCode, string(b))
	require.Equal(e.t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	return string(b)
}

// waitFinal re-asks /wait until a final answer.
func (e *env) waitFinal(sha string) (int, map[string]any) {
	e.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		code, body := e.wait(sha, "timeout=20s&namespace="+e.ns)
		if code != http.StatusRequestTimeout && code != http.StatusServiceUnavailable {
			return code, body
		}
	}
	e.t.Fatalf("no final answer for %s", sha)
	return 0, nil
}

// version reads the namespace's Version.
func (e *env) version() *version.Version {
	e.t.Helper()
	v, err := version.NewStore(e.dyn).Get(context.Background(), e.ns)
	require.NoError(e.t, err)
	require.NotNil(e.t, v)
	return v
}

// runCLI runs syncgate with args and returns its exit code and output.
func (e *env) runCLI(args ...string) (int, string) {
	e.t.Helper()
	cmd := exec.Command(syncgateBinary(e.t), args...)
	cmd.Env = append(os.Environ(), e.s3.Env()...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String()
	}
	require.NoError(e.t, err)
	return 0, out.String()
}

func deployment(name, image, annotations string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
spec:
  replicas: 2
  selector:
    matchLabels: {app: %[1]s}
  template:
    metadata:
      labels: {app: %[1]s}
      annotations: {%[3]s}
    spec:
      containers:
      - name: %[1]s
        image: %[2]s
`, name, image, annotations)
}

func gitserverWithSSH(t *testing.T) (*gitserver.Server, error) {
	t.Helper()
	g, err := gitserver.Start(context.Background(), gitserver.Options{SSH: true})
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = g.Close() })
	return g, nil
}
