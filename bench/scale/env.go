package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
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
	log        string // the agent's
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
	if e.vs, err = watchVersions(ctx, e.c); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(work, "agent-")
	if err != nil {
		return nil, err
	}
	e.log = filepath.Join(dir, "syncgate.log")
	if e.agent, err = startAgent(ctx, b.Path, dir, e.c, e.g.HTTPURL("config"), namespaces, o.env); err != nil {
		return nil, err
	}
	if _, err := e.vs.await(ctx, sha, namespaces, 5*time.Minute); err != nil {
		return nil, fmt.Errorf("first commit: %w\n%s", err, e.agent.LogTail(3000))
	}
	ok = true
	return e, nil
}

func (e *env) close() {
	if e.agent != nil {
		e.agent.stop()
	}
	if e.g != nil {
		e.g.Close()
	}
	if e.c != nil {
		e.c.Stop()
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
	return sha, at, demo.PostPush(ctx, e.agent.URL, secret, sha)
}

// deploy pushes files and waits until every namespace deployed them.
func (e *env) deploy(ctx context.Context, msg string, files map[string]string, limit time.Duration) (time.Duration, error) {
	sha, at, err := e.push(ctx, msg, files)
	if err != nil {
		return 0, err
	}
	done, err := e.vs.await(ctx, sha, e.namespaces, limit)
	if err != nil {
		return 0, fmt.Errorf("%w\n%s", err, e.agent.LogTail(3000))
	}
	return done.Sub(at), nil
}

// table is one build's figures for one scenario, in order.
type table struct {
	names  []string
	values map[string]string
}

func newTable() *table { return &table{values: map[string]string{}} }

func (t *table) add(name, format string, args ...any) {
	if _, ok := t.values[name]; !ok {
		t.names = append(t.names, name)
	}
	t.values[name] = fmt.Sprintf(format, args...)
	fmt.Fprintf(os.Stderr, "  %s: %s\n", name, t.values[name])
}

// counted adds the API requests and watches of a phase.
func (t *table) counted(phase string, c counts) {
	t.add(phase+": API requests (reads / writes / dry runs)", "%d (%d / %d / %d)", c.requests(), c.reads, c.writes, c.dryRuns)
	t.add(phase+": watches started / open at most", "%d / %d", c.watchesStarted, c.watchesPeak)
}

func printTables(w io.Writer, scenario string, bins []benchenv.Binary, tables []*table) {
	fmt.Fprintf(w, "\nScenario %s\n\n", scenario)
	out := benchenv.Table{W: w, NameWidth: 60, CellWidth: 22}
	names := make([]string, len(bins))
	for i, b := range bins {
		names[i] = b.Name
	}
	out.Head("", names...)
	for _, name := range tables[0].names {
		cells := make([]string, len(tables))
		for i, t := range tables {
			cells[i] = t.values[name]
		}
		out.Row(name, cells...)
	}
}

// percentiles formats p50 / p99 / max of ds.
func percentiles(ds []time.Duration) string {
	if len(ds) == 0 {
		return "-"
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(a, b int) bool { return s[a] < s[b] })
	at := func(p float64) time.Duration { return s[int(float64(len(s)-1)*p+0.5)] }
	return fmt.Sprintf("%s / %s / %s", benchenv.Ms(at(0.5)), benchenv.Ms(at(0.99)), benchenv.Ms(s[len(s)-1]))
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }
