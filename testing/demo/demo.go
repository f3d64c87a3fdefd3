package demo

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/testing/cluster"
	"github.com/syncgate/syncgate/testing/forge"
	"github.com/syncgate/syncgate/testing/gitserver"
	"github.com/syncgate/syncgate/testing/proc"
	"github.com/syncgate/syncgate/testing/s3server"
)

// The sample config repo's names.
const (
	Cluster   = "local"
	Namespace = "demo"
	Bucket    = "syncgate-markers"
	secret    = "demo-webhook-secret"
	// RepoName is the config repo, owner/name as on a forge: statuses and
	// pull request comments go to the demo's GitHub fake.
	RepoName = "acme/config"
)

// Options configure a run.
type Options struct {
	Out io.Writer
	// Interactive keeps everything up until ctx ends, for exploring.
	Interactive bool
	// Tag is the image tag the demo deploys (default 1.1.0); the release
	// after it crashloops, and the one after that fixes it.
	Tag string
	// Look, when set, is called with syncgate's URL once the journey is
	// done and where to look printed, while everything still runs (a test
	// looks at the status page and runs the commands printed).
	Look func(ctx context.Context, url string) error
}

// Result is what a finished run saw.
type Result struct {
	InitialSHA, BumpSHA string
	WaitOutput          string
	// CrashSHA is the release that crashloops, FailOutput what `syncgate
	// wait` said of it; FixSHA is the release deployed after it.
	CrashSHA, FixSHA string
	FailOutput       string
	Markers          []string
	// PreviewSHA is a pull request's head, PreviewComment the comment
	// syncgate left on it, PreviewOutput what `syncgate preview` said.
	PreviewSHA, PreviewComment, PreviewOutput string
	// AppSHA is the application commit the bump names (Syncgate-Origin);
	// AppStatus and AppDeployment are what GitHub holds for it once live.
	AppSHA        string
	AppStatus     forge.Status
	AppDeployment forge.Deployment
}

type runner struct {
	opts   Options
	root   string
	work   string
	step   int
	github *forge.GitHub
}

func (r *runner) say(format string, args ...any) {
	r.step++
	fmt.Fprintf(r.opts.Out, "\n==> %d. "+format+"\n", append([]any{r.step}, args...)...)
}

// Run runs the journey; everything it started is stopped before it returns.
func Run(ctx context.Context, opts Options) (*Result, error) {
	if opts.Out == nil {
		opts.Out = os.Stdout
	}
	if opts.Tag == "" {
		opts.Tag = "1.1.0"
	}
	root, err := cluster.RepoRoot()
	if err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "syncgate-demo-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	r := &runner{opts: opts, root: root, work: work}
	res := &Result{}

	r.say("Building syncgate")
	bin, err := BuildSyncgate(ctx, root, work)
	if err != nil {
		return nil, err
	}

	r.say("Starting a local Kubernetes control plane (the first run builds it: about 8 minutes; then cached)")
	start := time.Now()
	c, err := cluster.Start(ctx, cluster.Options{Log: opts.Out})
	if err != nil {
		return nil, err
	}
	defer c.Stop()
	fmt.Fprintf(opts.Out, "    ready in %s\n", time.Since(start).Round(100*time.Millisecond))
	if err := PrepareCluster(ctx, c, root, Namespace); err != nil {
		return nil, err
	}

	r.say("Serving the sample config repo (ci-examples/config-repo) over git smart HTTP")
	g, err := gitserver.Start(ctx, gitserver.Options{})
	if err != nil {
		return nil, err
	}
	defer g.Close()
	repo, err := g.CreateRepo(RepoName)
	if err != nil {
		return nil, err
	}
	if err := repo.CopyDir(filepath.Join(root, "ci-examples", "config-repo")); err != nil {
		return nil, err
	}
	if res.InitialSHA, err = commitNow(ctx, repo, "Initial config"); err != nil {
		return nil, err
	}
	fmt.Fprintf(opts.Out, "    %s at %s\n", g.HTTPURL(RepoName), res.InitialSHA[:7])
	if res.AppSHA, err = appCommit(g); err != nil {
		return nil, err
	}
	fmt.Fprintf(opts.Out, "    and the application repo %s at %s\n", g.HTTPURL(AppRepo), res.AppSHA[:7])

	r.say("Starting an S3 server (versitygw) with bucket %s", Bucket)
	s3srv, err := s3server.Start(ctx, s3server.Options{})
	if err != nil {
		return nil, err
	}
	defer s3srv.Close()
	if err := s3srv.CreateBucket(ctx, Bucket); err != nil {
		return nil, err
	}

	r.github = forge.NewGitHub(githubToken, RepoName, AppRepo)
	defer r.github.Close()
	r.github.OpenPull(RepoName, 1)

	r.say("Starting syncgate run (cluster %q, namespace %q)", Cluster, Namespace)
	url, stop, logPath, err := r.startSyncgate(ctx, bin, c, g, s3srv)
	if err != nil {
		return nil, err
	}
	defer stop()
	fmt.Fprintf(opts.Out, "    listening on %s, log %s\n", url, logPath)

	r.say("syncgate wait %s (the initial commit)", res.InitialSHA[:7])
	if _, err := r.wait(ctx, bin, url, res.InitialSHA); err != nil {
		return nil, r.withLog(err, logPath)
	}

	r.say("CI pushes an image bump: ci-examples/bin/bump-image.sh TAG=%s ORIGIN_REPO=%s ORIGIN_SHA=%s, then a signed push webhook",
		opts.Tag, AppRepo, res.AppSHA[:7]+"…")
	if res.BumpSHA, err = r.push(ctx, g, url, opts.Tag, "ORIGIN_REPO="+AppRepo, "ORIGIN_SHA="+res.AppSHA); err != nil {
		return nil, err
	}

	r.say("syncgate wait %s: the pipeline blocks until the commit is live", res.BumpSHA[:7])
	if res.WaitOutput, err = r.wait(ctx, bin, url, res.BumpSHA); err != nil {
		return nil, r.withLog(err, logPath)
	}
	if err := r.showOrigin(ctx, repo, res.BumpSHA, res); err != nil {
		return nil, r.withLog(err, logPath)
	}

	crashTag, fixTag := opts.Tag+"-1"+cluster.CrashloopTag, opts.Tag+"-2"
	r.say("A release that crashloops: TAG=%s (tags ending in %s crash on the demo's simulated nodes)", crashTag, cluster.CrashloopTag)
	if res.CrashSHA, err = r.push(ctx, g, url, crashTag); err != nil {
		return nil, err
	}
	if res.FailOutput, err = r.wait(ctx, bin, url, res.CrashSHA); err == nil {
		return nil, r.withLog(fmt.Errorf("syncgate wait %s: a crashlooping release was reported deployed", res.CrashSHA[:7]), logPath)
	}
	fmt.Fprintf(opts.Out, "    exit status 1: the pipeline fails with the reason\n")

	r.say("The fix: TAG=%s", fixTag)
	if res.FixSHA, err = r.push(ctx, g, url, fixTag); err != nil {
		return nil, err
	}
	if _, err := r.wait(ctx, bin, url, res.FixSHA); err != nil {
		return nil, r.withLog(err, logPath)
	}
	if err := r.previewPullRequest(ctx, bin, url, repo, res); err != nil {
		return nil, r.withLog(err, logPath)
	}
	r.say("Where to look")
	if res.Markers, err = r.report(ctx, c, s3srv, url, bin, res.FixSHA); err != nil {
		return nil, err
	}
	if opts.Look != nil {
		if err := opts.Look(ctx, url); err != nil {
			return nil, err
		}
	}
	if opts.Interactive {
		fmt.Fprintf(opts.Out, "\nEverything stays up until Ctrl-C.\n")
		<-ctx.Done()
		fmt.Fprintf(opts.Out, "\nCleaning up.\n")
	}
	return res, nil
}

func (r *runner) withLog(err error, logPath string) error {
	b, _ := os.ReadFile(logPath)
	s := string(b)
	if len(s) > 4000 {
		s = s[len(s)-4000:]
	}
	return fmt.Errorf("%w\nsyncgate log (tail):\n%s", err, s)
}

// PrepareCluster installs the Version CRD from root's deploy/crds, creates
// namespace and the ServiceAccount syncgate applies it as.
func PrepareCluster(ctx context.Context, c *cluster.Cluster, root, namespace string) error {
	if err := InstallCRD(ctx, c, root); err != nil {
		return err
	}
	kube, err := kubernetes.NewForConfig(c.RESTConfig())
	if err != nil {
		return err
	}
	_, err = kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{})
	if err != nil {
		return err
	}
	return BindServiceAccount(ctx, kube, namespace)
}

// InstallCRD applies the Version CRD from root's deploy/crds, with
// syncgate's own applier.
func InstallCRD(ctx context.Context, c *cluster.Cluster, root string) error {
	b, err := os.ReadFile(filepath.Join(root, "deploy", "crds", "syncgate.dev_versions.yaml"))
	if err != nil {
		return err
	}
	crd := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(b, &crd.Object); err != nil {
		return err
	}
	a, err := apply.New(c.RESTConfig(), apply.Options{})
	if err != nil {
		return err
	}
	if _, err := a.Apply(ctx, "", []*unstructured.Unstructured{crd}, nil); err != nil {
		return fmt.Errorf("install the Version CRD: %w", err)
	}
	return nil
}

func (r *runner) startSyncgate(ctx context.Context, bin string, c *cluster.Cluster, g *gitserver.Server, s3srv *s3server.Server) (string, func(), string, error) {
	addr, err := proc.FreeAddr()
	if err != nil {
		return "", nil, "", err
	}
	logPath := filepath.Join(r.work, "syncgate.log")
	if r.opts.Interactive {
		logPath = filepath.Join(os.TempDir(), "syncgate-demo.log")
		_ = os.Remove(logPath)
	}
	a, err := StartAgent(ctx, bin, addr, logPath, append([]string{
		"CONFIG_REPO=" + g.HTTPURL(RepoName),
		"CLUSTER_NAME=" + Cluster,
		"MANAGED_NAMESPACES=" + Namespace,
		"POD_NAMESPACE=" + Namespace,
		"KUBECONFIG=" + c.KubeconfigPath(),
		"GIT_SYNC_INTERVAL=10s",
		"CACHE_DIR=" + filepath.Join(r.work, "cache"),
		"S3_BUCKET=" + Bucket,
		"S3_ENDPOINT=" + s3srv.Endpoint(),
		"PUBLIC_URL=http://" + addr,
		// The config repo's git server has no commit pages to link to.
		"COMMIT_URL=http://" + addr + "/status/{sha}",
		"WEBHOOK_SECRET=" + secret,
		"GITHUB_API_URL=" + r.github.APIURL(),
		"GITHUB_TOKEN=" + githubToken,
		"LOG_FORMAT=text",
	}, s3srv.Env()...))
	if err != nil {
		return "", nil, "", err
	}
	return a.URL, func() { a.Stop(15 * time.Second) }, logPath, nil
}

// wait runs `syncgate wait` and shows its lines.
func (r *runner) wait(ctx context.Context, bin, url, sha string) (string, error) {
	var buf bytes.Buffer
	flags := []string{"--url", url, "--namespace", Namespace, "--timeout", "3m"}
	cmd := exec.CommandContext(ctx, bin, append([]string{"wait", sha}, flags...)...)
	cmd.Stdout = io.MultiWriter(&buf, prefixed(r.opts.Out))
	cmd.Stderr = cmd.Stdout
	fmt.Fprintf(r.opts.Out, "    $ syncgate wait %s %s\n", sha[:7], strings.Join(flags, " "))
	if err := cmd.Run(); err != nil {
		return buf.String(), fmt.Errorf("syncgate wait %s: %w: %s", sha[:7], err, buf.String())
	}
	return buf.String(), nil
}

// commitNow commits the repo's work tree with the clock's time, as a person
// would (the status page measures lead time from it), and pushes it.
func commitNow(ctx context.Context, repo *gitserver.Repo, msg string) (string, error) {
	for _, args := range [][]string{{"add", "--all"}, {"commit", "--quiet", "-m", msg}} {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = repo.Dir()
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=demo", "GIT_AUTHOR_EMAIL=demo@example.com",
			"GIT_COMMITTER_NAME=demo", "GIT_COMMITTER_EMAIL=demo@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("git %s: %w: %s", args[0], err, out)
		}
	}
	if err := repo.Push(); err != nil {
		return "", err
	}
	out, err := exec.CommandContext(ctx, "git", "-C", repo.Dir(), "rev-parse", "HEAD").Output()
	return strings.TrimSpace(string(out)), err
}

// push pins tag with bump-image.sh, as CI would, and posts the webhook;
// env is more of bump-image.sh's settings (ORIGIN_REPO, ORIGIN_SHA).
func (r *runner) push(ctx context.Context, g *gitserver.Server, url, tag string, env ...string) (string, error) {
	sha, err := r.bump(ctx, g, tag, env...)
	if err != nil {
		return "", err
	}
	if err := PostPush(ctx, url, secret, sha); err != nil {
		return "", err
	}
	fmt.Fprintf(r.opts.Out, "    pushed %s\n", sha[:7])
	return sha, nil
}

func (r *runner) bump(ctx context.Context, g *gitserver.Server, tag string, env ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(r.root, "ci-examples", "bin", "bump-image.sh"))
	// Only what the demo sets: a CI's own variables (GITHUB_SHA, ...)
	// would name an origin the demo has not.
	cmd.Env = append(ciFree(os.Environ()), "CONFIG_REPO="+g.HTTPURL(RepoName), "CLUSTER="+Cluster, "NAMESPACE="+Namespace,
		"DEPLOYMENT=web", "TAG="+tag, "GIT_AUTHOR_NAME=ci", "GIT_AUTHOR_EMAIL=ci@example.com",
		"GIT_COMMITTER_NAME=ci", "GIT_COMMITTER_EMAIL=ci@example.com")
	cmd.Env = append(cmd.Env, env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("bump-image.sh: %w: %s", err, stderr.String())
	}
	return strings.TrimSpace(string(out)), nil
}

// PostPush sends the push of sha to main that GitHub would send to url's
// /hooks/github, signed with secret, and wants 202 back.
func PostPush(ctx context.Context, url, secret, sha string) error {
	body, _ := json.Marshal(map[string]any{"ref": "refs/heads/main", "after": sha})
	return postWebhook(ctx, url, secret, "push", body)
}

// postWebhook posts a GitHub event of kind with body to url's /hooks/github,
// signed with secret as GitHub signs, and wants 202 back.
func postWebhook(ctx context.Context, url, secret, kind string, body []byte) error {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/hooks/github", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", kind)
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(m.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("%s webhook answered %s", kind, resp.Status)
	}
	return nil
}
