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
	"context"
	"flag"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/syncgate/syncgate/bench/internal/benchenv"
	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/testing/demo"
)

const (
	ns     = "bench-webhook"
	secret = "bench-webhook-secret"
)

func main() {
	n := flag.Int("n", 20, "commits pushed, one webhook each")
	flag.Parse()
	benchenv.Main(func(ctx context.Context) error { return run(ctx, *n) })
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
	work, done, err := benchenv.WorkDir("webhook", false)
	if err != nil {
		return err
	}
	defer done()
	bin, err := benchenv.Build(ctx, work)
	if err != nil {
		return err
	}
	e, err := benchenv.Start(ctx, benchenv.Options{Namespace: ns, Repo: "config"})
	if err != nil {
		return err
	}
	defer e.Close()
	repo := e.Repo
	first, err := repo.CommitFiles("base", map[string]string{ns + "/cm.yaml": configMap(0)})
	if err != nil {
		return err
	}
	agent, err := benchenv.StartAgent(ctx, benchenv.AgentOptions{
		Bin: bin, Work: work, RepoURL: e.RepoURL(), Kubeconfig: e.Cluster.KubeconfigPath(),
		Namespaces: []string{ns}, Secret: secret,
	})
	if err != nil {
		return err
	}
	defer agent.Stop(15 * time.Second)
	if err := benchenv.WaitDeployed(ctx, agent.URL, ns, first); err != nil {
		return fmt.Errorf("first commit: %w\n%s", err, agent.LogTail(4000))
	}

	s := &seen{at: map[string]map[status.State]time.Time{}, wake: make(chan struct{}, 1)}
	if err := benchenv.WatchVersions(ctx, e.Cluster.RESTConfig(), ns, s.note); err != nil {
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
		err = benchenv.WaitDeployed(ctx, agent.URL, ns, sha)
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
	fmt.Printf("|%s|%s|%s|%s|\n", benchenv.Dashes(48), benchenv.Dashes(11), benchenv.Dashes(11), benchenv.Dashes(11))
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
		fmt.Printf("| %-46s | %-9s | %-9s | %-9s |\n", r.name, benchenv.Ms(benchenv.Pct(r.d, 0.5)), benchenv.Ms(benchenv.Pct(r.d, 0.9)), benchenv.Ms(r.d[len(r.d)-1]))
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

func configMap(i int) string {
	return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  revision: %q\n", fmt.Sprint(i))
}
