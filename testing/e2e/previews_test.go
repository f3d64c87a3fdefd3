package e2e

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/syncgate/syncgate/testing/forge"
)

// writeCounter is an API server proxy that counts the requests that would
// change the cluster: mutating verbs that are not dry runs, other than
// syncgate's own bookkeeping (Versions, Events, the Lease, the previews'
// ledger ConfigMap) and its access reviews (questions the API server
// answers without storing anything).
type writeCounter struct {
	writes atomic.Int64
	mu     chan struct{}
	seen   []string
}

func (w *writeCounter) count(r *http.Request) {
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		return
	}
	if r.URL.Query().Get("dryRun") == "All" {
		return
	}
	p := r.URL.Path
	if strings.HasPrefix(p, "/apis/authorization.k8s.io/") {
		return // SelfSubjectAccessReviews: asked, not stored
	}
	for _, own := range []string{"/versions", "/events", "/leases", "/configmaps/syncgate-previews"} {
		if strings.Contains(p, own) {
			return
		}
	}
	if r.Method == http.MethodPost && strings.HasSuffix(p, "/configmaps") {
		return // the ledger's creation
	}
	w.writes.Add(1)
	w.mu <- struct{}{}
	w.seen = append(w.seen, r.Method+" "+p)
	<-w.mu
}

func (w *writeCounter) written() []string {
	w.mu <- struct{}{}
	defer func() { <-w.mu }()
	return append([]string(nil), w.seen...)
}

// countingKubeconfig serves the cluster's API on a loopback port through
// a counter, and returns a kubeconfig for it.
func countingKubeconfig(t *testing.T, e *env) (string, *writeCounter) {
	t.Helper()
	cfg := e.c.RESTConfig()
	rt, err := rest.TransportFor(cfg)
	require.NoError(t, err)
	target, err := url.Parse(cfg.Host)
	require.NoError(t, err)
	wc := &writeCounter{mu: make(chan struct{}, 1)}
	proxy := &httputil.ReverseProxy{Transport: rt, Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.Out.Host = target.Host
	}, FlushInterval: -1}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		wc.count(r)
		proxy.ServeHTTP(rw, r)
	}), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	path := filepath.Join(t.TempDir(), "kubeconfig")
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "http://%s"}
users:
- name: u
  user: {}
contexts:
- name: c
  context: {cluster: c, user: u}
current-context: c
`, ln.Addr().String())
	require.NoError(t, os.WriteFile(path, []byte(kc), 0o600))
	return path, wc
}

// previewEnv runs syncgate with settings (and PUBLIC_URL) on the API
// server through a write counter, following repo, whose first commit
// holds the files of base; it returns once that commit is deployed.
func previewEnv(t *testing.T, repo string, base func(ns string) map[string]string, settings ...string) (*env, *writeCounter) {
	t.Helper()
	e := newEnv(t, append(settings, "PUBLIC_URL=https://syncgate.example.com")...)
	kubeconfig, writes := countingKubeconfig(t, e)
	e.extra = append(e.extra, "KUBECONFIG="+kubeconfig)
	r, err := e.git.CreateRepo(repo)
	require.NoError(t, err)
	e.repo = r
	sha := e.commit("base", base(e.ns))
	e.start()
	code, _ := e.waitFinal(sha)
	require.Equal(t, http.StatusOK, code)
	return e, writes
}

// pullRequest sends a signed pull_request webhook for head.
func (e *env) pullRequest(action string, number int, head, fromRepo string) (int, map[string]any) {
	e.t.Helper()
	payload := map[string]any{
		"action": action, "number": number,
		"repository": map[string]any{"full_name": "acme/config"},
		"pull_request": map[string]any{
			"html_url": fmt.Sprintf("https://github.example.com/acme/config/pull/%d", number),
			"head":     map[string]any{"sha": head, "ref": "topic", "repo": map[string]any{"full_name": fromRepo}},
			"base":     map[string]any{"ref": e.repo.Branch(), "repo": map[string]any{"full_name": "acme/config"}},
		},
	}
	return e.hook("github", "pull_request", payload)
}

// hook posts payload as event to the webhook of forge ("github", signed
// with the secret, or "gitlab", with it as the token), and returns the
// status code and the JSON answer.
func (e *env) hook(forge, event string, payload any) (int, map[string]any) {
	e.t.Helper()
	body, err := json.Marshal(payload)
	require.NoError(e.t, err)
	req, err := http.NewRequest(http.MethodPost, e.url+"/hooks/"+forge, bytes.NewReader(body))
	require.NoError(e.t, err)
	req.Header.Set("Content-Type", "application/json")
	if forge == "github" {
		mac := hmac.New(sha256.New, []byte(e.secret))
		mac.Write(body)
		req.Header.Set("X-GitHub-Event", event)
		req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	} else {
		req.Header.Set("X-Gitlab-Event", event)
		req.Header.Set("X-Gitlab-Token", e.secret)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	var out map[string]any
	require.NoError(e.t, json.NewDecoder(resp.Body).Decode(&out))
	return resp.StatusCode, out
}

func configMapYAML(name, value string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n  value: %q\n", name, value)
}

func secretYAML(name, password string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\nstringData:\n  password: %q\n", name, password)
}

// previewFake is a forge fake that shows previews: commit statuses and
// comments (notes) on pull (merge) requests.
type previewFake interface {
	Latest(repo, sha, context string) (forge.Status, bool)
	Comments(repo string, number int) []forge.Comment
}

// previewShown waits until the preview of sha in context ends on repo
// (neither pending nor running), requires its status to say state and
// description and link to the preview's page, and returns the one comment
// on pull request 1 once there is one.
func previewShown(t *testing.T, f previewFake, repo, sha, context, state, description string) forge.Comment {
	t.Helper()
	var st forge.Status
	require.Eventually(t, func() bool {
		s, ok := f.Latest(repo, sha, context)
		st = s
		return ok && s.State != "pending" && s.State != "running"
	}, 60*time.Second, 50*time.Millisecond)
	require.Equal(t, state, st.State)
	require.Equal(t, description, st.Description)
	require.Equal(t, "https://syncgate.example.com/previews/"+sha, st.TargetURL)
	var comments []forge.Comment
	require.Eventually(t, func() bool { comments = f.Comments(repo, 1); return len(comments) == 1 }, 30*time.Second, 50*time.Millisecond)
	return comments[0]
}

// Pull requests are previewed before the merge: statuses on the head, one
// comment per cluster edited in place, and nothing written to the cluster.
func TestPullRequestPreviews(t *testing.T) {
	gh := forge.NewGitHub("ghp_e2e", "acme/config")
	t.Cleanup(gh.Close)
	for n := 1; n <= 4; n++ {
		gh.OpenPull("acme/config", n)
	}
	e, writes := previewEnv(t, "acme/config", func(ns string) map[string]string {
		return map[string]string{
			ns + "/deploy.yaml": deployment("web", "registry.example.com/web:1", ""),
			ns + "/old.yaml":    configMapYAML("old", "1"),
			ns + "/secret.yaml": secretYAML("db", "hunter2"),
		}
	}, "GITHUB_API_URL="+gh.APIURL(), "GITHUB_TOKEN=ghp_e2e")
	repo, ns := e.repo, e.ns
	before := writes.writes.Load()
	ctx := "syncgate/e2e/" + ns + "/preview"
	latest := func(sha string) func() bool {
		return func() bool { s, ok := gh.Latest("acme/config", sha, ctx); return ok && s.State != "pending" }
	}

	// A valid pull request: one field changed, one object created, one
	// pruned, a Secret's value changed.
	valid, err := repo.CommitRef("refs/pull/1/head", "scale", map[string]string{
		ns + "/deploy.yaml": strings.Replace(deployment("web", "registry.example.com/web:2", ""), "replicas: 2", "replicas: 3", 1),
		ns + "/new.yaml":    configMapYAML("new", "x"),
		ns + "/old.yaml":    "",
		ns + "/secret.yaml": secretYAML("db", "correct-horse"),
	})
	require.NoError(t, err)
	code, body := e.pullRequest("opened", 1, valid, "acme/config")
	require.Equal(t, http.StatusAccepted, code, body)
	c := previewShown(t, gh, "acme/config", valid, ctx, "success", "valid: 2 changed, 1 created, 1 pruned").Body
	require.Contains(t, c, "spec.replicas: 2")
	require.Contains(t, c, "spec.replicas: 3")
	require.Contains(t, c, "prune <code>ConfigMap "+ns+"/old</code>")
	require.Contains(t, c, "create <code>ConfigMap "+ns+"/new</code>")
	require.Contains(t, c, "data.password: changed (value hidden)")
	require.NotContains(t, c, "correct-horse")
	require.NotContains(t, c, "hunter2")
	require.NotContains(t, c, "Y29ycmVjdC1ob3JzZQ") // base64 of the new value

	// The page.
	page := e.page("/previews/" + valid)
	require.Contains(t, page, `<span class="badge valid">valid: 2 changed, 1 created, 1 pruned</span>`)
	require.Contains(t, page, `<span class="add">+ spec.replicas: 3</span>`)
	require.Contains(t, page, `<span class="hid">! data.password: changed (value hidden)</span>`)
	require.NotContains(t, page, "correct-horse")

	// The JSON answer.
	resp, err := http.Get(e.url + "/previews/" + valid)
	require.NoError(t, err)
	var res map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&res))
	resp.Body.Close()
	require.Equal(t, "valid", res["state"])

	// The CLI: the same preview, answered from the cache.
	code2, out := e.runCLI("preview", valid, "--url", e.url)
	require.Equal(t, 0, code2, out)
	require.Contains(t, out, "valid: 2 changed, 1 created, 1 pruned")
	require.Contains(t, out, "+ spec.replicas: 3")
	code2, out = e.runCLI("preview", "refs/pull/99/head", "--url", e.url)
	require.Equal(t, 3, code2, out)
	code2, out = e.runCLI("preview", "main", "--url", e.url)
	require.Equal(t, 3, code2, out)

	// A second push to the same pull request: an API-only refusal, in the
	// same comment.
	refused, err := repo.CommitRef("refs/pull/1/head", "typo", map[string]string{
		ns + "/deploy.yaml": strings.Replace(deployment("web", "registry.example.com/web:2", ""), "replicas: 2", `replicas: "three"`, 1),
	})
	require.NoError(t, err)
	code, body = e.pullRequest("synchronize", 1, refused, "acme/config")
	require.Equal(t, http.StatusAccepted, code, body)
	require.Eventually(t, latest(refused), 60*time.Second, 50*time.Millisecond)
	st, _ := gh.Latest("acme/config", refused, ctx)
	require.Equal(t, "failure", st.State)
	require.Contains(t, st.Description, "Deployment "+ns+"/web")
	require.Contains(t, st.Description, "replicas")
	var comments []forge.Comment
	require.Eventually(t, func() bool {
		comments = gh.Comments("acme/config", 1)
		return len(comments) == 1 && strings.Contains(comments[0].Body, "**refused**")
	}, 30*time.Second, 50*time.Millisecond)
	require.Equal(t, 1, comments[0].Edits, "the same comment, edited")
	require.Contains(t, comments[0].Body, "spec.replicas")
	code2, out = e.runCLI("preview", "refs/pull/1/head", "--url", e.url)
	require.Equal(t, 1, code2, out)
	require.Contains(t, out, `expected numeric (int or float), got string`)

	// A fork's pull request is refused, with the reason in its status.
	fork, err := repo.CommitRef("refs/pull/2/head", "from a fork", map[string]string{ns + "/x.yaml": configMapYAML("x", "1")})
	require.NoError(t, err)
	code, body = e.pullRequest("opened", 2, fork, "someone/config")
	require.Equal(t, http.StatusAccepted, code, body)
	require.Equal(t, "refused", body["result"])
	require.Eventually(t, latest(fork), 30*time.Second, 50*time.Millisecond)
	st, _ = gh.Latest("acme/config", fork, ctx)
	require.Equal(t, "failure", st.State)
	require.Contains(t, st.Description, "fork")
	require.Empty(t, gh.Comments("acme/config", 2))

	// A report the forge asks to hold off survives a crash: the next
	// process delivers it.
	gh.FailNext(1, forge.Fault{Status: http.StatusTooManyRequests, Headers: map[string]string{"Retry-After": "3600"},
		Body: `{"message":"Too Many Requests"}`})
	held, err := repo.CommitRef("refs/pull/3/head", "held", map[string]string{ns + "/z.yaml": configMapYAML("z", "1")})
	require.NoError(t, err)
	code, body = e.pullRequest("opened", 3, held, "acme/config")
	require.Equal(t, http.StatusAccepted, code, body)
	require.Eventually(t, func() bool { return len(gh.Comments("acme/config", 3)) == 1 }, 30*time.Second, 50*time.Millisecond)
	require.Eventually(t, func() bool {
		for _, c := range gh.Calls() {
			if strings.HasSuffix(c.Path, "/statuses/"+held) && c.Method == http.MethodPost {
				return false
			}
		}
		cm, err := e.kube.CoreV1().ConfigMaps(ns).Get(t.Context(), "syncgate-previews", metav1.GetOptions{})
		return err == nil && strings.Contains(cm.Data["previews.json"], held) && strings.Contains(cm.Data["previews.json"], "429")
	}, 30*time.Second, 50*time.Millisecond)
	_, ok := gh.Latest("acme/config", held, ctx)
	require.False(t, ok, "held back by Retry-After")
	e.stop(true)
	e.start()
	require.Eventually(t, latest(held), 60*time.Second, 50*time.Millisecond)
	require.Len(t, gh.Comments("acme/config", 3), 1, "still one comment")

	// Nothing was written to the cluster by any preview.
	require.Equal(t, before, writes.writes.Load(), "writes: %v", writes.written())
}
