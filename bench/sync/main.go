// Command sync measures syncgate's apply path against kubectl on the local
// control plane: the first sync of a commit with N objects and a no-op
// resync, side by side with `kubectl apply --server-side` of the same files,
// counting API requests. It prints a table.
//
//	go run ./bench/sync [-n 1000]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"

	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/sync/render"
	"github.com/syncgate/syncgate/testing/cluster"
)

func main() {
	n := flag.Int("n", 1000, "objects in the commit")
	flag.IntVar(&concurrency, "concurrency", 0, "apply concurrency (0: the default)")
	flag.StringVar(&mix, "mix", "configmap,secret,service,deployment", "kinds generated, in turn")
	flag.BoolVar(&withKubectl, "kubectl", true, "measure kubectl too")
	flag.Parse()
	if err := run(*n); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

var (
	mix string
	concurrency int
	withKubectl bool
)

type row struct {
	name            string
	took            time.Duration
	total, mutating int64
}

func run(n int) error {
	ctx := context.Background()
	fmt.Fprintf(os.Stderr, "starting the local control plane...\n")
	c, err := cluster.Start(ctx, cluster.Options{})
	if err != nil {
		return err
	}
	defer c.Stop()
	kube, err := kubernetes.NewForConfig(c.RESTConfig())
	if err != nil {
		return err
	}
	for _, ns := range []string{"bench-kubectl", "bench-syncgate"} {
		if _, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			return err
		}
	}
	repo, err := os.MkdirTemp("", "syncgate-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(repo)
	if err := generate(repo, n); err != nil {
		return err
	}

	var rows []row
	if kubectl, err := exec.LookPath("kubectl"); err == nil && withKubectl {
		for _, name := range []string{"kubectl apply --server-side (first)", "kubectl apply --server-side (no-op)"} {
			start := time.Now()
			cmd := exec.Command(kubectl, "--kubeconfig", c.KubeconfigPath(), "apply", "--server-side", "-n", "bench-kubectl", "-f", filepath.Join(repo, "bench"))
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("kubectl: %w: %s", err, tail(string(out)))
			}
			rows = append(rows, row{name: name, took: time.Since(start), total: -1, mutating: -1})
			if err := settle(ctx, kube, "bench-kubectl"); err != nil {
				return err
			}
		}
	} else {
		fmt.Fprintln(os.Stderr, "kubectl not found: its rows are left out")
	}

	counter := &apply.CountingTransport{}
	cfg := counter.Wrap(c.RESTConfig())
	a, err := apply.New(cfg, apply.Options{Prune: true, Concurrency: concurrency, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		return err
	}
	r, err := render.New(render.Options{Cluster: "bench", Scoper: a.Scoper()})
	if err != nil {
		return err
	}
	tree := os.DirFS(repo)
	// Warm discovery once, as a running agent has.
	if _, err := a.Scoper().IsNamespaced(schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}); err != nil {
		return err
	}
	var inv []apply.Entry
	for _, name := range []string{"syncgate render + apply (first)", "syncgate render + apply (no-op)"} {
		counter.Reset()
		start := time.Now()
		objs, err := r.Render(tree, "bench")
		if err != nil {
			return err
		}
		for _, o := range objs {
			o.SetNamespace("bench-syncgate")
		}
		res, err := a.Apply(ctx, "bench-syncgate", objs, inv)
		if err != nil {
			return err
		}
		inv = res.Inventory
		rows = append(rows, row{name: name, took: time.Since(start), total: counter.Counts().Total, mutating: counter.Counts().Mutating})
		if err := settle(ctx, kube, "bench-syncgate"); err != nil {
			return err
		}
	}
	print(n, rows)
	return nil
}

// settle waits until the controllers have rolled out every Deployment of ns,
// so the next scenario does not share the cores with the previous one's pods.
func settle(ctx context.Context, kube kubernetes.Interface, ns string) error {
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		list, err := kube.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		ready := 0
		for _, d := range list.Items {
			if d.Status.ObservedGeneration >= d.Generation && d.Status.ReadyReplicas == *d.Spec.Replicas {
				ready++
			}
		}
		if ready == len(list.Items) {
			return nil
		}
		time.Sleep(500 * time.Millisecond)
	}
	return fmt.Errorf("deployments in %s did not settle", ns)
}

func print(n int, rows []row) {
	fmt.Printf("\nsync of %d objects on the local control plane (2 cores)\n\n", n)
	fmt.Printf("%-40s %10s %10s %10s\n", "scenario", "wall", "requests", "mutating")
	fmt.Println(strings.Repeat("-", 74))
	for _, r := range rows {
		req, mut := "n/a", "n/a"
		if r.total >= 0 {
			req, mut = fmt.Sprint(r.total), fmt.Sprint(r.mutating)
		}
		fmt.Printf("%-40s %10s %10s %10s\n", r.name, r.took.Round(time.Millisecond), req, mut)
	}
	if len(rows) == 4 {
		fmt.Printf("\nfirst sync: syncgate %.1fx faster than kubectl; no-op: %.1fx\n",
			rows[0].took.Seconds()/rows[2].took.Seconds(), rows[1].took.Seconds()/rows[3].took.Seconds())
	}
}

// generate writes n objects (ConfigMaps, Secrets, Services, Deployments)
// into <dir>/bench/, one file per object, as a config repo would hold them.
func generate(dir string, n int) error {
	d := filepath.Join(dir, "bench")
	if err := os.MkdirAll(d, 0o755); err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		var doc string
		kinds := strings.Split(mix, ",")
		switch kinds[i%len(kinds)] {
		case "configmap":
			doc = fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%d}\ndata: {index: \"%d\", payload: %q}\n", i, i, strings.Repeat("x", 200))
		case "secret":
			doc = fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata: {name: secret-%d}\nstringData: {token: \"t-%d\"}\n", i, i)
		case "service":
			doc = fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata: {name: svc-%d}\nspec: {selector: {app: app-%d}, ports: [{port: 80}]}\n", i, i)
		case "deployment":
			doc = fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: app-%[1]d}
spec:
  replicas: 1
  selector: {matchLabels: {app: app-%[1]d}}
  template:
    metadata: {labels: {app: app-%[1]d}}
    spec:
      containers: [{name: app, image: "registry.example.com/app:%[1]d"}]
`, i)
		}
		if err := os.WriteFile(filepath.Join(d, fmt.Sprintf("obj-%05d.yaml", i)), []byte(doc), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func tail(s string) string {
	if len(s) > 2000 {
		return s[len(s)-2000:]
	}
	return s
}
