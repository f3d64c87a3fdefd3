package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/syncgate/syncgate/bench/internal/benchenv"
	"github.com/syncgate/syncgate/testing/cluster"
	"github.com/syncgate/syncgate/testing/demo"
	"github.com/syncgate/syncgate/testing/gitserver"
)

// env is one scenario's world: a fresh control plane, a git server, the
// config repo, the agent and the Versions watched.
type env struct {
	c          *cluster.Cluster
	g          *gitserver.Server
	repo       *gitserver.Repo
	agent      *agent
	vs         *versions
	namespaces []string
	log        string             // the agent's
	lastSHA    string             // the last commit pushed
	debugURL   string             // the agent's DEBUG_ADDR, when profiles are taken
	profiles   string             // where heap profiles go, prefixed
	stopWatch  context.CancelFunc // ends the Versions watch
}

// setup starts everything, with first as the repo's first commit, and
// waits until the agent deployed it everywhere.
func setup(ctx context.Context, o *options, b benchenv.Binary, work string, namespaces []string, first map[string]string) (*env, error) {
	root, err := cluster.RepoRoot()
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "%s: ", b.Name)
	e := &env{namespaces: namespaces}
	if e.c, err = benchenv.StartCluster(ctx, root, namespaces[0]); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			e.close()
		}
	}()
	kube, err := kubernetes.NewForConfig(e.c.RESTConfig())
	if err != nil {
		return nil, err
	}
	for _, ns := range namespaces[1:] {
		if _, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			return nil, err
		}
		if err := demo.BindServiceAccount(ctx, kube, ns); err != nil {
			return nil, err
		}
	}
	if e.g, err = gitserver.Start(ctx, gitserver.Options{}); err != nil {
		return nil, err
	}
	if e.repo, err = e.g.CreateRepo("config"); err != nil {
		return nil, err
	}
	sha, err := e.repo.CommitFiles("first", first)
	if err != nil {
		return nil, err
	}
	wctx, stopWatch := context.WithCancel(ctx)
	e.stopWatch = stopWatch
	if e.vs, err = watchVersions(wctx, e.c); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(work, "agent-")
	if err != nil {
		return nil, err
	}
	e.log = filepath.Join(dir, "syncgate.log")
	env := o.env
	if o.profiles != "" {
		var more []string
		if e.debugURL, more, err = benchenv.ProfileEnv(); err != nil {
			return nil, err
		}
		env = append(append([]string(nil), env...), more...)
		e.profiles = b.Name
	}
	if e.agent, err = startAgent(ctx, b.Path, dir, e.c, e.g.HTTPURL("config"), namespaces, env); err != nil {
		return nil, err
	}
	if _, err := e.vs.Await(ctx, sha, namespaces, 5*time.Minute); err != nil {
		return nil, fmt.Errorf("first commit: %w\n%s", err, e.agent.LogTail(3000))
	}
	ok = true
	return e, nil
}

func (e *env) close() {
	if e.stopWatch != nil {
		e.stopWatch()
	}
	if e.agent != nil {
		e.agent.StopAll()
	}
	if e.g != nil {
		e.g.Close()
	}
	if e.c != nil {
		e.c.Stop()
	}
}

// heapProfile writes the agent's heap profile as <bin>-what (and its
// goroutines) into
// -profiles, when profiles are taken. A build without DEBUG_ADDR has none
// to give; its figures still count.
func (e *env) heapProfile(ctx context.Context, o *options, what string) {
	if e.debugURL == "" {
		return
	}
	if err := benchenv.WriteHeapProfile(ctx, e.debugURL, o.profiles, e.profiles+"-"+what); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", what, err)
	}
	if err := benchenv.WriteGoroutines(ctx, e.debugURL, o.profiles, e.profiles+"-"+what+"-goroutines"); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", what, err)
	}
}

// push commits files, posts the webhook and returns the sha and when the
// webhook was sent.
func (e *env) push(ctx context.Context, msg string, files map[string]string) (string, time.Time, error) {
	sha, err := e.repo.CommitFiles(msg, files)
	if err != nil {
		return "", time.Time{}, err
	}
	at := time.Now()
	e.lastSHA = sha
	return sha, at, demo.PostPush(ctx, e.agent.URL, secret, sha)
}

// deploy pushes files and waits until every namespace deployed them.
func (e *env) deploy(ctx context.Context, msg string, files map[string]string, limit time.Duration) (time.Duration, error) {
	all, _, err := e.deployIn(ctx, msg, files, "", limit)
	return all, err
}

// deployIn is deploy that also says when namespace ns showed the commit
// deployed.
func (e *env) deployIn(ctx context.Context, msg string, files map[string]string, ns string, limit time.Duration) (all, in time.Duration, err error) {
	sha, at, err := e.push(ctx, msg, files)
	if err != nil {
		return 0, 0, err
	}
	done, err := e.vs.Await(ctx, sha, e.namespaces, limit)
	if err != nil {
		return 0, 0, fmt.Errorf("%w\n%s", err, e.agent.LogTail(3000))
	}
	if ns != "" {
		in = e.vs.At(sha, ns).Sub(at)
	}
	return done.Sub(at), in, nil
}

// table is one build's figures for one scenario, in order.
type table = benchenv.Column

func newTable() *table { return benchenv.NewColumn() }

func printTables(w io.Writer, scenario string, bins []benchenv.Binary, tables []*table) {
	names := make([]string, len(bins))
	for i, b := range bins {
		names[i] = b.Name
	}
	benchenv.PrintColumns(w, "Scenario "+scenario, names, tables)
}

func percentiles(ds []time.Duration) string { return benchenv.Percentiles(ds) }

func secs(d time.Duration) string { return benchenv.Secs(d) }
