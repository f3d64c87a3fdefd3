// Command sync measures syncgate's sync path against kubectl on a fresh
// local control plane: the first sync of a commit of N objects and a no-op
// resync of it, side by side with `kubectl apply --server-side` of the same
// files, counting API requests. It prints a table.
//
//	go run ./bench/sync [-n 1000] [-concurrency 64] [-kubectl PATH|''] [-mix configmap,service] [-v]
//
// kubectl's requests are counted from its -v=6 log, syncgate's on the client
// (apply.CountingTransport). Every scenario starts once the previous one's
// Deployments have rolled out, so none shares the cores with another's pods,
// and syncgate's once kubectl's namespace is deleted, so both create their
// objects in the same cluster state.
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/syncgate/syncgate/bench/internal/benchenv"
	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/sync/readiness"
	"github.com/syncgate/syncgate/sync/render"
	"github.com/syncgate/syncgate/testing/cluster"
)

type options struct {
	n           int
	concurrency int
	kubectl     string
	mix         []string
	verbose     bool
	kubeconfig  string
}

func main() {
	var o options
	var mix string
	flag.IntVar(&o.n, "n", 1000, "objects in the commit")
	flag.IntVar(&o.concurrency, "concurrency", 0, "syncgate's requests in flight (0: apply's default)")
	flag.StringVar(&o.kubectl, "kubectl", "kubectl", "kubectl binary, looked up on PATH (none there: its scenarios are skipped); empty to skip them")
	flag.StringVar(&mix, "mix", "configmap,secret,service,deployment", "kinds generated, in turn")
	flag.BoolVar(&o.verbose, "v", false, "log syncgate's apply phases")
	flag.StringVar(&o.kubeconfig, "kubeconfig", "", "use this running control plane (e.g. from syncgate-cluster up) instead of starting one")
	flag.Parse()
	o.mix = strings.Split(mix, ",")
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "kubectl" })
	benchenv.Main(func(ctx context.Context) (err error) {
		if o.kubectl, err = kubectlOrSkip(o.kubectl, explicit, os.Stderr); err != nil {
			return err
		}
		return run(ctx, o)
	})
}

// kubectlOrSkip is the path of the kubectl binary name names. With none
// on PATH it is "" and a SKIPPED line on w, unless the flag named it
// (explicit): nothing make installs brings kubectl, and syncgate's own
// scenarios need none.
func kubectlOrSkip(name string, explicit bool, w io.Writer) (string, error) {
	if name == "" {
		return "", nil
	}
	path, err := exec.LookPath(name)
	switch {
	case err == nil:
		return path, nil
	case explicit:
		return "", fmt.Errorf("-kubectl: %w", err)
	}
	fmt.Fprintf(w, "SKIPPED: the kubectl scenarios: %v (-kubectl names one)\n", err)
	return "", nil
}

// row is one measured scenario; requests are -1 when not counted.
type row struct {
	name            string
	took            time.Duration
	total, mutating int64
}

// controlPlane is where the scenarios run.
type controlPlane struct {
	rest       *rest.Config
	kubeconfig string
	stop       func()
}

func start(ctx context.Context, o options) (*controlPlane, error) {
	if o.kubeconfig != "" {
		cfg, err := clientcmd.BuildConfigFromFlags("", o.kubeconfig)
		if err != nil {
			return nil, err
		}
		cfg.QPS, cfg.Burst = 500, 1000 // as testing/cluster's
		return &controlPlane{rest: cfg, kubeconfig: o.kubeconfig, stop: func() {}}, nil
	}
	fmt.Fprintln(os.Stderr, "starting the local control plane...")
	c, err := cluster.Start(ctx, cluster.Options{})
	if err != nil {
		return nil, err
	}
	return &controlPlane{rest: c.RESTConfig(), kubeconfig: c.KubeconfigPath(), stop: c.Stop}, nil
}

func run(ctx context.Context, o options) error {
	// Fresh namespaces, also on a control plane used before.
	suffix := strconv.FormatInt(time.Now().Unix()%100000, 36)
	nsKubectl, nsSyncgate := "bench-kubectl-"+suffix, "bench-syncgate-"+suffix
	repo, err := os.MkdirTemp("", "syncgate-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(repo)
	counts, err := generate(filepath.Join(repo, nsSyncgate), o.n, o.mix)
	if err != nil {
		return err
	}

	c, err := start(ctx, o)
	if err != nil {
		return err
	}
	defer c.stop()
	kube, err := kubernetes.NewForConfig(c.rest)
	if err != nil {
		return err
	}
	for _, ns := range []string{nsKubectl, nsSyncgate} {
		if _, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			return err
		}
	}
	clients, err := apply.NewClients(c.rest, "")
	if err != nil {
		return err
	}
	checker, err := readiness.New(readiness.Options{Clients: clients})
	if err != nil {
		return err
	}
	settle := func(ns string) error {
		start := time.Now()
		if err := checker.Wait(ctx, ns, deployments(ns, o.n, o.mix), time.Now().Add(10*time.Minute), nil); err != nil {
			return fmt.Errorf("rollout in %s: %w", ns, err)
		}
		fmt.Fprintf(os.Stderr, "  rolled out in %s\n", time.Since(start).Round(10*time.Millisecond))
		return nil
	}

	var rows []row
	if o.kubectl != "" {
		for _, phase := range []string{"first", "no-op"} {
			r, err := kubectlApply(ctx, o.kubectl, c.kubeconfig, nsKubectl, filepath.Join(repo, nsSyncgate))
			if err != nil {
				return err
			}
			r.name = "kubectl apply --server-side (" + phase + ")"
			fmt.Fprintf(os.Stderr, "%s: %s\n", r.name, r.took.Round(time.Millisecond))
			rows = append(rows, r)
			if err := settle(nsKubectl); err != nil {
				return err
			}
		}
		// The API server's cost of creating a Service grows with the
		// Services in the cluster: syncgate starts from the same state.
		if err := deleteNamespace(ctx, kube, nsKubectl); err != nil {
			return err
		}
	}

	logger := slog.New(slog.DiscardHandler)
	if o.verbose {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	counter := &apply.CountingTransport{}
	a, err := apply.New(counter.Wrap(c.rest), apply.Options{Prune: true, Concurrency: o.concurrency, Logger: logger})
	if err != nil {
		return err
	}
	r, err := render.New(render.Options{Cluster: "bench", Scoper: a.Scoper()})
	if err != nil {
		return err
	}
	// A running agent has discovery cached already.
	if _, err := a.Scoper().IsNamespaced(schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}); err != nil {
		return err
	}
	tree := os.DirFS(repo)
	var inv []apply.Entry
	for _, phase := range []string{"first", "no-op"} {
		counter.Reset()
		start := time.Now()
		objs, err := r.Render(tree, nsSyncgate)
		if err != nil {
			return err
		}
		res, err := a.Apply(ctx, nsSyncgate, objs, inv)
		if err != nil {
			return err
		}
		inv = res.Inventory
		n := counter.Counts()
		rows = append(rows, row{name: "syncgate render + apply (" + phase + ")", took: time.Since(start), total: n.Total, mutating: n.Mutating})
		fmt.Fprintf(os.Stderr, "%s: %s\n", rows[len(rows)-1].name, rows[len(rows)-1].took.Round(time.Millisecond))
		if err := settle(nsSyncgate); err != nil {
			return err
		}
	}
	report(os.Stdout, o.n, counts, rows)
	return nil
}

// deleteNamespace deletes ns and waits until it is gone.
func deleteNamespace(ctx context.Context, kube kubernetes.Interface, ns string) error {
	start := time.Now()
	if err := benchenv.DeleteNamespaces(ctx, kube, []string{ns}); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "  %s deleted in %s\n", ns, time.Since(start).Round(10*time.Millisecond))
	return nil
}

// kubectlApply applies dir into ns and counts the
// requests kubectl logs at -v=6.
func kubectlApply(ctx context.Context, kubectl, kubeconfig, ns, dir string) (row, error) {
	cmd := exec.CommandContext(ctx, kubectl, "--kubeconfig", kubeconfig, "apply", "--server-side", "-n", ns, "-f", dir, "-v=6")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return row{}, fmt.Errorf("kubectl: %w: %s", err, tail(stderr.String()))
	}
	r := row{took: time.Since(start)}
	r.total, r.mutating = countRequests(stderr.String())
	return r, nil
}

var (
	// client-go logs each response: structured ("Response" verb="GET"
	// url=...) in recent releases, "GET https://... 200 OK" before.
	structuredResponse = regexp.MustCompile(`"Response" verb="([A-Z]+)"`)
	plainResponse      = regexp.MustCompile(`\] (GET|POST|PUT|PATCH|DELETE) https?://`)
)

func countRequests(log string) (total, mutating int64) {
	sc := bufio.NewScanner(strings.NewReader(log))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := structuredResponse.FindStringSubmatch(sc.Text())
		if m == nil {
			m = plainResponse.FindStringSubmatch(sc.Text())
		}
		if m == nil {
			continue
		}
		total++
		if m[1] != "GET" {
			mutating++
		}
	}
	return total, mutating
}

func report(w *os.File, n int, counts map[string]int, rows []row) {
	var kinds []string
	for _, k := range benchenv.Kinds() {
		if counts[k] > 0 {
			kinds = append(kinds, fmt.Sprintf("%d %ss", counts[k], k))
		}
	}
	fmt.Fprintf(w, "\nsync of %d objects (%s) on the local control plane\n\n", n, strings.Join(kinds, ", "))
	fmt.Fprintf(w, "%-40s %10s %10s %10s\n", "scenario", "wall", "requests", "mutating")
	fmt.Fprintln(w, strings.Repeat("-", 73))
	by := map[string]row{}
	for _, r := range rows {
		req, mut := "-", "-"
		if r.total >= 0 {
			req, mut = fmt.Sprint(r.total), fmt.Sprint(r.mutating)
		}
		fmt.Fprintf(w, "%-40s %10s %10s %10s\n", r.name, r.took.Round(time.Millisecond), req, mut)
		by[r.name] = r
	}
	fmt.Fprintln(w)
	sgFirst, sgNoop := by["syncgate render + apply (first)"], by["syncgate render + apply (no-op)"]
	if kFirst, ok := by["kubectl apply --server-side (first)"]; ok {
		kNoop := by["kubectl apply --server-side (no-op)"]
		speedup := kFirst.took.Seconds() / sgFirst.took.Seconds()
		fmt.Fprintf(w, "first sync: syncgate %.1fx faster than kubectl (target >= 5x: %s)\n", speedup, verdict(speedup >= 5))
		fmt.Fprintf(w, "no-op resync: syncgate %.0fx faster than kubectl\n", kNoop.took.Seconds()/sgNoop.took.Seconds())
	}
	fmt.Fprintf(w, "no-op resync: %s, %d mutating requests (target < 1s, none: %s)\n",
		sgNoop.took.Round(time.Millisecond), sgNoop.mutating, verdict(sgNoop.took < time.Second && sgNoop.mutating == 0))
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

// generate writes n objects of the kinds in mix, in turn, into dir, one file
// each, as a config repo would hold them; it returns how many of each kind.
func generate(dir string, n int, mix []string) (map[string]int, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	counts := map[string]int{}
	for i := range n {
		kind := mix[i%len(mix)]
		doc, err := benchenv.Object(kind, i)
		if err != nil {
			return nil, fmt.Errorf("-mix: %w", err)
		}
		counts[kind]++
		if err := os.WriteFile(filepath.Join(dir, benchenv.ObjectFile(i)), []byte(doc), 0o644); err != nil {
			return nil, err
		}
	}
	return counts, nil
}

// deployments are the generated Deployments, as placed in ns.
func deployments(ns string, n int, mix []string) []readiness.Object {
	var out []readiness.Object
	for i := range n {
		if mix[i%len(mix)] == "deployment" {
			out = append(out, readiness.Object{GroupKind: schema.GroupKind{Group: "apps", Kind: "Deployment"}, Namespace: ns, Name: fmt.Sprintf("app-%d", i)})
		}
	}
	return out
}

func tail(s string) string {
	if len(s) > 2000 {
		return s[len(s)-2000:]
	}
	return s
}
