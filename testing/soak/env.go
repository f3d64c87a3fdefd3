package soak

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/syncgate/syncgate/testing/cluster"
	"github.com/syncgate/syncgate/testing/demo"
	"github.com/syncgate/syncgate/testing/forge"
	"github.com/syncgate/syncgate/testing/gitserver"
	"github.com/syncgate/syncgate/testing/proc"
	"github.com/syncgate/syncgate/testing/s3server"
)

// Names the soak gives syncgate.
const (
	clusterName   = "soak"
	repoName      = "soak/config" // owner/repo, as the GitHub reporter reads the URL
	bucket        = "markers"
	webhookSecret = "soak-webhook-secret"
	githubToken   = "ghp_soak"
	leaseName     = "syncgate-leader"
)

// env is everything the soak runs against.
type env struct {
	opts    Options
	work    string
	c       *cluster.Cluster
	kube    kubernetes.Interface
	dyn     dynamic.Interface
	git     *gitserver.Server
	repo    *gitserver.Repo
	gitDoor *tcpProxy
	s3      *s3server.Server
	gh      *forge.GitHub
	ghFront *forgeFront // what syncgate talks to: the fake, or errors
	api     *apiServer  // nil when the API server cannot be restarted
	apiWhy  string      // why not

	leaseNS    string
	namespaces []string
	replicas   []*replica

	closers []func()
}

// replica is one `syncgate run` process, restartable on its address.
type replica struct {
	name, addr, url, log string

	mu    sync.Mutex
	agent *demo.Agent
}

func (r *replica) running() *demo.Agent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.agent
}

func randSuffix() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// setup starts git, S3 and the forge fake, makes the namespaces and the
// repository with its first commit, and returns the environment; the
// replicas are started by startReplicas.
func setup(ctx context.Context, opts Options) (e *env, err error) {
	e = &env{opts: opts, c: opts.Cluster}
	defer func() {
		if err != nil {
			e.close()
			e = nil
		}
	}()
	e.work = opts.WorkDir
	if e.kube, err = kubernetes.NewForConfig(e.c.RESTConfig()); err != nil {
		return e, err
	}
	if e.dyn, err = dynamic.NewForConfig(e.c.RESTConfig()); err != nil {
		return e, err
	}
	root, err := cluster.RepoRoot()
	if err != nil {
		return e, err
	}
	if err := demo.InstallCRD(ctx, e.c, root); err != nil {
		return e, err
	}
	// Namespace names are in the repo's paths, so they come from the seed:
	// the same seed makes the same commits, shas included. On a control
	// plane that ran the seed already, a random suffix keeps them fresh.
	suffix := strconv.FormatUint(uint64(opts.Seed), 36)
	if _, err := e.kube.CoreV1().Namespaces().Get(ctx, "soak-"+suffix, metav1.GetOptions{}); err == nil {
		suffix += "-" + randSuffix()
	}
	e.leaseNS = "soak-" + suffix
	for i := range opts.Namespaces {
		e.namespaces = append(e.namespaces, fmt.Sprintf("soak-%s-%c", suffix, 'a'+i))
	}
	for _, ns := range append([]string{e.leaseNS}, e.namespaces...) {
		if _, err := e.kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			return e, fmt.Errorf("create namespace %s: %w", ns, err)
		}
		e.closers = append(e.closers, func() {
			_ = e.kube.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
		})
	}
	for _, ns := range e.namespaces {
		if err := demo.BindServiceAccount(ctx, e.kube, ns); err != nil {
			return e, err
		}
	}
	for _, ns := range e.namespaces {
		if err := demo.BindServiceAccount(ctx, e.kube, ns); err != nil {
			return e, err
		}
	}

	if e.git, err = gitserver.Start(ctx, gitserver.Options{Dir: filepath.Join(e.work, "git")}); err != nil {
		return e, err
	}
	e.closers = append(e.closers, func() { _ = e.git.Close() })
	if e.repo, err = e.git.CreateRepo(repoName); err != nil {
		return e, err
	}
	if e.gitDoor, err = startProxy(e.git.HTTPAddr()); err != nil {
		return e, err
	}
	e.closers = append(e.closers, e.gitDoor.Close)

	if e.s3, err = s3server.Start(ctx, s3server.Options{Dir: filepath.Join(e.work, "s3")}); err != nil {
		return e, err
	}
	e.closers = append(e.closers, e.s3.Close)
	if err := e.s3.CreateBucket(ctx, bucket); err != nil {
		return e, err
	}
	e.gh = forge.NewGitHub(githubToken, repoName)
	e.closers = append(e.closers, e.gh.Close)
	if e.ghFront, err = newForgeFront(e.gh.URL()); err != nil {
		return e, err
	}
	e.closers = append(e.closers, e.ghFront.Close)

	if err := e.newReplicas(); err != nil {
		return e, err
	}
	if e.api, err = newAPIServer(e.c); err != nil {
		e.apiWhy, e.api, err = err.Error(), nil, nil
	} else {
		e.closers = append(e.closers, e.api.Close)
	}
	return e, nil
}

// close stops what setup and startReplicas started, newest first.
func (e *env) close() {
	for _, r := range e.replicas {
		if a := r.running(); a != nil {
			a.Stop(15 * time.Second)
		}
	}
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
}

// settings is the environment every replica runs with.
func (e *env) settings(r *replica) []string {
	nss := ""
	for i, ns := range e.namespaces {
		if i > 0 {
			nss += ","
		}
		nss += ns
	}
	return append([]string{
		"CONFIG_REPO=http://" + e.gitDoor.Addr() + "/" + repoName + ".git",
		"CONFIG_BRANCH=main",
		"CLUSTER_NAME=" + clusterName,
		"MANAGED_NAMESPACES=" + nss,
		"POD_NAMESPACE=" + e.leaseNS,
		"POD_NAME=" + r.name,
		"LEADER_ELECT=true",
		"KUBECONFIG=" + e.c.KubeconfigPath(),
		"GIT_SYNC_INTERVAL=" + e.opts.PollInterval.String(),
		"HEALTH_TIMEOUT=" + e.opts.HealthTimeout.String(),
		"CACHE_DIR=" + filepath.Join(e.work, r.name+"-cache"),
		"S3_BUCKET=" + bucket,
		"S3_ENDPOINT=" + e.s3.Endpoint(),
		"STATUS_PROVIDER=github",
		"GITHUB_API_URL=" + e.ghFront.APIURL(),
		"GITHUB_TOKEN=" + githubToken,
		"PUBLIC_URL=" + r.url,
		"WEBHOOK_SECRET=" + webhookSecret,
		"LOG_FORMAT=text",
		"LOG_LEVEL=" + e.opts.LogLevel,
	}, e.s3.Env()...)
}

// newReplicas names the two replicas and picks their addresses.
func (e *env) newReplicas() error {
	for _, name := range []string{"replica-a", "replica-b"} {
		addr, err := proc.FreeAddr()
		if err != nil {
			return err
		}
		e.replicas = append(e.replicas, &replica{name: name, addr: addr, url: "http://" + addr, log: filepath.Join(e.work, name+".log")})
	}
	return nil
}

// startReplicas starts the two replicas, the first one first so it leads.
func (e *env) startReplicas(ctx context.Context) error {
	for _, r := range e.replicas {
		if err := e.start(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// start runs r (again) on its address; a port taken meanwhile is retried.
func (e *env) start(ctx context.Context, r *replica) error {
	var err error
	for range 3 {
		var a *demo.Agent
		a, err = demo.StartAgent(ctx, e.opts.Binary, r.addr, r.log, e.settings(r))
		if err == nil {
			r.mu.Lock()
			r.agent = a
			r.mu.Unlock()
			return nil
		}
	}
	return fmt.Errorf("start %s: %w", r.name, err)
}

// kill ends r at once, as a crash would.
func (e *env) kill(r *replica) {
	r.mu.Lock()
	a := r.agent
	r.agent = nil
	r.mu.Unlock()
	if a != nil {
		a.Kill()
	}
}

// leader is the replica holding the Lease, or nil when none does (or the
// API server cannot say).
func (e *env) leader(ctx context.Context) *replica {
	l, err := e.kube.CoordinationV1().Leases(e.leaseNS).Get(ctx, leaseName, metav1.GetOptions{})
	if err != nil || l.Spec.HolderIdentity == nil {
		return nil
	}
	for _, r := range e.replicas {
		if r.name == *l.Spec.HolderIdentity {
			return r
		}
	}
	return nil
}

var hookClient = &http.Client{Timeout: 5 * time.Second}

// notify sends each replica the push webhook GitHub would send; a replica
// that is down misses it, as it would.
func (e *env) notify(ctx context.Context, sha string) {
	body, _ := json.Marshal(map[string]any{"ref": "refs/heads/main", "after": sha})
	m := hmac.New(sha256.New, []byte(webhookSecret))
	m.Write(body)
	sig := "sha256=" + hex.EncodeToString(m.Sum(nil))
	for _, r := range e.replicas {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url+"/hooks/github", bytes.NewReader(body))
		if err != nil {
			continue
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-GitHub-Event", "push")
		req.Header.Set("X-Hub-Signature-256", sig)
		if resp, err := hookClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}
}
