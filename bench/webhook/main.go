// Command webhook measures how soon a push reaches the cluster when the
// forge sends a webhook. The real syncgate binary follows a config repo
// served by git http-backend, with polling set to an hour, on a fresh local
// control plane. For each of N commits (a ConfigMap changed) a signed
// GitHub push webhook is posted; the Version resource is watched for the
// commit's transitions, and a `GET /wait/<sha>` sent right after the
// webhook answers when the commit is deployed. It prints a table.
//
//	go run ./bench/webhook [-n 20]
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"

	"github.com/syncgate/syncgate/server/waitclient"
	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/testing/cluster"
	"github.com/syncgate/syncgate/testing/demo"
	"github.com/syncgate/syncgate/testing/gitserver"
	"github.com/syncgate/syncgate/testing/proc"
)

const (
	ns     = "bench-webhook"
	secret = "bench-webhook-secret"
)

func main() {
	n := flag.Int("n", 20, "commits pushed, one webhook each")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *n); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// seen records when each commit first reached each state.
type seen struct {
	mu   sync.Mutex
	at   map[string]map[status.State]time.Time
	wake chan struct{}
}

func (s *seen) note(v *version.Version, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range v.Status.History {
		m := s.at[c.SHA]
		if m == nil {
			m = map[status.State]time.Time{}
			s.at[c.SHA] = m
		}
		if _, ok := m[c.State]; !ok {
			m[c.State] = now
		}
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *seen) get(sha string, st status.State) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.at[sha][st]
	return t, ok
}

func run(ctx context.Context, n int) error {
	root, err := cluster.RepoRoot()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "syncgate-bench-webhook-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	bin, err := demo.BuildSyncgate(ctx, root, work)
	if err != nil {
		return err
	}

	fmt.Fprintln(os.Stderr, "starting the local control plane...")
	c, err := cluster.Start(ctx, cluster.Options{})
	if err != nil {
		return err
	}
	defer c.Stop()
	if err := demo.PrepareCluster(ctx, c, root, ns); err != nil {
		return err
	}
	g, err := gitserver.Start(ctx, gitserver.Options{})
	if err != nil {
		return err
	}
	defer g.Close()
	repo, err := g.CreateRepo("config")
	if err != nil {
		return err
	}
	first, err := repo.CommitFiles("base", map[string]string{ns + "/cm.yaml": configMap(0)})
	if err != nil {
		return err
	}

	addr, err := proc.FreeAddr()
	if err != nil {
		return err
	}
	agent, err := demo.StartAgent(ctx, bin, addr, filepath.Join(work, "syncgate.log"), []string{
		"CONFIG_REPO=" + g.HTTPURL("config"),
		"CLUSTER_NAME=bench",
		"MANAGED_NAMESPACES=" + ns,
		"POD_NAMESPACE=" + ns,
		"KUBECONFIG=" + c.KubeconfigPath(),
		"GIT_SYNC_INTERVAL=1h",
		"CACHE_DIR=" + filepath.Join(work, "cache"),
		"WEBHOOK_SECRET=" + secret,
		"LOG_FORMAT=text",
	})
	if err != nil {
		return err
	}
	defer agent.Stop(15 * time.Second)
	if err := waitDeployed(ctx, agent.URL, first); err != nil {
		return fmt.Errorf("first commit: %w\n%s", err, agent.LogTail(4000))
	}

	s := &seen{at: map[string]map[status.State]time.Time{}, wake: make(chan struct{}, 1)}
	if err := watch(ctx, c, s); err != nil {
		return err
	}
	var toSeen, toApplying, toDeployed, toAnswer []time.Duration
	for i := 1; i <= n; i++ {
		sha, err := repo.CommitFiles(fmt.Sprintf("change %d", i), map[string]string{ns + "/cm.yaml": configMap(i)})
		if err != nil {
			return err
		}
		start := time.Now()
		if err := demo.PostPush(ctx, agent.URL, secret, sha); err != nil {
			return err
		}
		err = waitDeployed(ctx, agent.URL, sha)
		answered := time.Now()
		if err != nil {
			return fmt.Errorf("commit %d: %w\n%s", i, err, agent.LogTail(4000))
		}
		deployed, err := s.await(ctx, sha, status.Deployed)
		if err != nil {
			return err
		}
		// Every commit passes through these; the watch may merge two
		// quick transitions, so a missed one counts as the next one's.
		fetched, ok := s.get(sha, status.Fetched)
		applying, ok2 := s.get(sha, status.Applying)
		if !ok2 {
			applying = deployed
			if rolling, ok3 := s.get(sha, status.RollingOut); ok3 {
				applying = rolling
			}
		}
		if !ok {
			fetched = applying
		}
		toSeen = append(toSeen, fetched.Sub(start))
		toApplying = append(toApplying, applying.Sub(start))
		toDeployed = append(toDeployed, deployed.Sub(start))
		toAnswer = append(toAnswer, answered.Sub(start))
	}

	fmt.Printf("\nPush webhook → cluster, %d commits (one ConfigMap changed each), polling every hour\n\n", n)
	fmt.Printf("| %-46s | %-9s | %-9s | %-9s |\n", "from the webhook's POST to", "p50", "p90", "max")
	fmt.Printf("|%s|%s|%s|%s|\n", dashes(48), dashes(11), dashes(11), dashes(11))
	for _, r := range []struct {
		name string
		d    []time.Duration
	}{
		{"the commit recorded in its Version (fetched)", toSeen},
		{"apply started (applying)", toApplying},
		{"deployed in the Version", toDeployed},
		{"GET /wait/<sha> answered 200", toAnswer},
	} {
		sort.Slice(r.d, func(a, b int) bool { return r.d[a] < r.d[b] })
		fmt.Printf("| %-46s | %-9s | %-9s | %-9s |\n", r.name, ms(pct(r.d, 0.5)), ms(pct(r.d, 0.9)), ms(r.d[len(r.d)-1]))
	}
	fmt.Println("\nWithout a webhook a push waits for the next poll: GIT_SYNC_INTERVAL, 1 minute by default.")
	return nil
}

// await waits until sha reached st in the watched Version.
func (s *seen) await(ctx context.Context, sha string, st status.State) (time.Time, error) {
	deadline := time.After(time.Minute)
	for {
		if t, ok := s.get(sha, st); ok {
			return t, nil
		}
		select {
		case <-s.wake:
		case <-deadline:
			return time.Time{}, fmt.Errorf("%s did not reach %s in a minute", sha[:7], st)
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		}
	}
}

// watch follows the namespace's Version and notes every transition.
func watch(ctx context.Context, c *cluster.Cluster, s *seen) error {
	dyn, err := dynamic.NewForConfig(c.RESTConfig())
	if err != nil {
		return err
	}
	w, err := dyn.Resource(version.Resource).Namespace(ns).Watch(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	go func() {
		defer w.Stop()
		for ev := range w.ResultChan() {
			now := time.Now()
			u, ok := ev.Object.(*unstructured.Unstructured)
			if !ok {
				continue
			}
			var v version.Version
			if runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &v) == nil {
				s.note(&v, now)
			}
		}
	}()
	return nil
}

func configMap(i int) string {
	return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  revision: %q\n", fmt.Sprint(i))
}

// wait long-polls /wait/<sha> until a final answer.
// waitDeployed waits, as `syncgate wait` does, until sha is deployed.
func waitDeployed(ctx context.Context, url, sha string) error {
	res := waitclient.Wait(ctx, sha, waitclient.Options{URLs: []string{url}, Namespace: ns, Timeout: 2 * time.Minute})
	if res.Outcome != waitclient.Deployed {
		return fmt.Errorf("/wait: not deployed: %v", res.Err)
	}
	return nil
}

func dashes(n int) string { return string(bytes.Repeat([]byte("-"), n)) }

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }

func pct(d []time.Duration, p float64) time.Duration { return d[int(float64(len(d)-1)*p)] }
