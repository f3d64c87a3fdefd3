package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/syncgate/syncgate/bench/internal/benchenv"
	"github.com/syncgate/syncgate/testing/demo"
	"github.com/syncgate/syncgate/testing/gitserver"
	"github.com/syncgate/syncgate/testing/statuswatch"
)

const webhookSecret = "bench-memory-webhook-secret"

// agentRun is one syncgate binary following a repo of its own.
type agentRun struct {
	e          *env
	b          benchenv.Binary
	name       string
	namespaces []string
	repo       *gitserver.Repo
	agent      *demo.Agent
	debugURL   string // the agent's DEBUG_ADDR, when profiles are taken
}

func (e *env) measureSyncgate(ctx context.Context, b benchenv.Binary) *column {
	col := &column{name: b.Name}
	if e.o.scenarios.Has("one") {
		col.fail("one", e.syncgateOne(ctx, b, col))
	}
	if e.o.scenarios.Has("many") {
		col.fail("many", e.syncgateMany(ctx, b, col))
	}
	return col
}

func (e *env) syncgateOne(ctx context.Context, b benchenv.Binary, col *column) error {
	namespaces, err := e.namespaces(ctx, "one", 1)
	if err != nil {
		return err
	}
	ns := namespaces[0]
	a, err := e.newAgentRun(ctx, b, namespaces, benchenv.Changed(ns, 0))
	if err != nil {
		return err
	}
	defer a.stop()
	if col.idle, err = a.settled(ctx); err != nil {
		return err
	}
	e.logf(b.Name, "idle", col.idle)
	if _, err := a.deploy(ctx, benchenv.Files(ns, e.o.objects, 0)); err != nil {
		return err
	}
	if col.synced, err = a.settled(ctx); err != nil {
		return err
	}
	e.logf(b.Name, fmt.Sprintf("after %d objects", e.o.objects), col.synced)
	for i := 1; i <= e.o.commits; i++ {
		s, err := a.deploy(ctx, benchenv.Changed(ns, i))
		if err != nil {
			return err
		}
		col.commits = append(col.commits, s)
		if i%e.o.every == 0 {
			e.logf(b.Name, fmt.Sprintf("commit %d", i), s)
		}
		if e.o.profiles.at[i] {
			// A build without DEBUG_ADDR has no profiles to give; its
			// figures still count.
			if err := e.o.profiles.take(ctx, a.debugURL, b.Name, fmt.Sprintf("commit-%d", i)); err != nil {
				fmt.Fprintf(os.Stderr, "%s, commit %d: %v\n", b.Name, i, err)
			}
		}
	}
	if col.after, err = a.settled(ctx); err != nil {
		return err
	}
	a.stop()
	return e.DeleteNamespaces(ctx, namespaces)
}

func (e *env) syncgateMany(ctx context.Context, b benchenv.Binary, col *column) error {
	namespaces, all, err := e.manyNamespaces(ctx, "many")
	if err != nil {
		return err
	}
	a, err := e.newAgentRun(ctx, b, namespaces, all)
	if err != nil {
		return err
	}
	defer a.stop()
	if col.many, err = a.settled(ctx); err != nil {
		return err
	}
	col.manyNote = fmt.Sprintf("%d × %d", e.o.namespaces, e.o.perNS)
	e.logf(b.Name, "many", col.many)
	a.stop()
	return e.DeleteNamespaces(ctx, namespaces)
}

// newAgentRun commits first to a new repo, starts the agent on it and
// waits until every namespace deployed it.
func (e *env) newAgentRun(ctx context.Context, b benchenv.Binary, namespaces []string, first map[string]string) (*agentRun, error) {
	for _, ns := range namespaces {
		if err := demo.BindServiceAccount(ctx, e.Kube, ns); err != nil {
			return nil, err
		}
	}
	a := &agentRun{e: e, b: b, name: fmt.Sprintf("config-%d", e.runs), namespaces: namespaces}
	var err error
	if a.repo, err = e.Git.CreateRepo(a.name); err != nil {
		return nil, err
	}
	sha, err := a.repo.CommitFiles("first", first)
	if err != nil {
		return nil, err
	}
	env := append([]string{
		"LEADER_ELECT=false", // one replica; Flux runs without election too
		// Transient trouble (API server timeouts on a loaded machine) is
		// retried as long as the benchmark waits.
		"HEALTH_TIMEOUT=" + e.o.timeout.String(),
	}, e.o.env...)
	if e.o.profiles.on() {
		var more []string
		if a.debugURL, more, err = benchenv.ProfileEnv(); err != nil {
			return nil, err
		}
		env = append(env, more...)
	}
	a.agent, err = benchenv.StartAgent(ctx, benchenv.AgentOptions{
		Bin: b.Path, Work: filepath.Join(e.work, a.name), RepoURL: e.Git.HTTPURL(a.name), Kubeconfig: e.Cluster.KubeconfigPath(),
		Namespaces: namespaces, Own: agentNamespace, Secret: webhookSecret, Env: env,
	})
	if err != nil {
		return nil, err
	}
	if err := a.await(ctx, sha); err != nil {
		a.stop()
		return nil, err
	}
	return a, nil
}

// deploy commits files, announces the commit with a push webhook, waits
// until every namespace deployed it and reads the agent's memory.
func (a *agentRun) deploy(ctx context.Context, files map[string]string) (sample, error) {
	sha, err := a.repo.CommitFiles(fmt.Sprintf("%d files", len(files)), files)
	if err != nil {
		return sample{}, err
	}
	if err := demo.PostPush(ctx, a.agent.URL, webhookSecret, sha); err != nil {
		return sample{}, err
	}
	if err := a.await(ctx, sha); err != nil {
		return sample{}, err
	}
	return sampleOf(ctx, a.agent.Pid(), a.agent.URL+"/metrics")
}

func (a *agentRun) await(ctx context.Context, sha string) error {
	if _, err := a.e.Deployed.AwaitEach(ctx, a.e.o.timeout, statuswatch.DeployedKey, sha, a.namespaces...); err != nil {
		return fmt.Errorf("syncgate: %s: %w\n%s", sha[:7], err, a.agent.LogTail(3000))
	}
	return nil
}

func (a *agentRun) settled(ctx context.Context) (sample, error) {
	return settled(ctx, a.e.o.settle, a.agent.Pid(), a.agent.URL+"/metrics")
}

func (a *agentRun) stop() {
	if a.agent != nil {
		a.agent.Stop(15 * time.Second)
		a.agent = nil
	}
}

func (e *env) logf(tool, what string, s sample) {
	fmt.Fprintf(os.Stderr, "%s, %s: RSS %s MB (anon %s, file %s), heap %s MB (from the system %s), peak %s MB\n",
		tool, what, mb(s.rss), mb(s.anon), mb(s.file), mb(s.heap), mb(s.heapSys), mb(s.peak))
}
