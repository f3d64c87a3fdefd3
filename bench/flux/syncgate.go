package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/syncgate/syncgate/bench/internal/benchenv"
	"github.com/syncgate/syncgate/testing/demo"
	"github.com/syncgate/syncgate/testing/gitserver"
	"github.com/syncgate/syncgate/testing/proc"
	"github.com/syncgate/syncgate/testing/statuswatch"
)

const (
	// agentNamespace is syncgate's own (POD_NAMESPACE), never managed.
	agentNamespace = "syncgate-system"
	webhookSecret  = "bench-flux-webhook-secret"
)

// syncgateTarget is the syncgate binary following a repo of its own.
type syncgateTarget struct {
	e          *env
	t          tool
	name       string
	namespaces []string
	repo       *gitserver.Repo
	agent      *demo.Agent
	debugURL   string // with -profiles, where the agent serves its profiles
}

// debugURL is where tg serves its profiles: a syncgate column's with
// -profiles, otherwise empty.
func debugURL(tg target) string {
	if s, ok := tg.(*syncgateTarget); ok {
		return s.debugURL
	}
	return ""
}

func (e *env) newSyncgateTarget(ctx context.Context, t tool, namespaces []string) (*syncgateTarget, error) {
	for _, ns := range namespaces {
		if err := demo.BindServiceAccount(ctx, e.Kube, ns); err != nil {
			return nil, err
		}
	}
	e.runs++
	name := fmt.Sprintf("config-%d", e.runs)
	repo, err := e.Git.CreateRepo(name)
	if err != nil {
		return nil, err
	}
	return &syncgateTarget{e: e, t: t, name: name, namespaces: namespaces, repo: repo}, nil
}

func (s *syncgateTarget) publish(ctx context.Context, files map[string]string) (string, time.Time, error) {
	sha, err := s.repo.CommitFiles(fmt.Sprintf("%d files", len(files)), files)
	if err != nil {
		return "", time.Time{}, err
	}
	at := time.Now()
	if s.agent != nil {
		if err := demo.PostPush(ctx, s.agent.URL, webhookSecret, sha); err != nil {
			return "", time.Time{}, err
		}
	}
	return sha, at, nil
}

func (s *syncgateTarget) start(ctx context.Context) (err error) {
	bin := s.e.bin
	if s.t.bin != "" {
		bin = s.t.bin
	}
	env := append([]string{
		"HEALTH_TIMEOUT=" + s.e.o.timeout.String(),
		"LEADER_ELECT=false", // one replica; Flux runs without election too
	}, s.t.env...)
	if s.e.o.profiles != "" {
		// DEBUG_ADDR alone: a finer heap sampling would cost CPU.
		addr, err := proc.FreeAddr()
		if err != nil {
			return err
		}
		s.debugURL = "http://" + addr
		env = append(env, "DEBUG_ADDR="+addr)
	}
	s.agent, err = benchenv.StartAgent(ctx, benchenv.AgentOptions{
		Bin: bin, Work: filepath.Join(s.e.work, s.name), RepoURL: s.e.Git.HTTPURL(s.name), Kubeconfig: s.e.Cluster.KubeconfigPath(),
		Namespaces: s.namespaces, Own: agentNamespace, Secret: webhookSecret,
		Env: env,
	})
	return err
}

// await waits until the namespaces' Versions record sha deployed, as the
// Kustomizations' Ready is read for Flux: both from the status each tool
// writes, seen by an informer.
func (s *syncgateTarget) await(ctx context.Context, sha, ns string) (time.Time, error) {
	namespaces := s.namespaces
	if ns != "" {
		namespaces = []string{ns}
	}
	done, err := s.e.Deployed.AwaitEach(ctx, s.e.o.timeout, statuswatch.DeployedKey, sha, namespaces...)
	if err != nil {
		return time.Time{}, fmt.Errorf("syncgate: %s: %w\n%s", sha[:7], err, s.agent.LogTail(3000))
	}
	return done, nil
}

func (s *syncgateTarget) rss() (int64, error) { return s.agent.RSS() }

func (s *syncgateTarget) pid() int { return s.agent.Pid() }

func (s *syncgateTarget) stop(context.Context) error {
	if s.agent != nil {
		s.agent.Stop(15 * time.Second)
	}
	return nil
}
