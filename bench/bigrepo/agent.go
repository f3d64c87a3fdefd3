package main

import (
	"context"
	"fmt"
	"regexp"
	"sync/atomic"
	"time"

	"k8s.io/client-go/dynamic"

	"github.com/syncgate/syncgate/bench/internal/benchenv"
	"github.com/syncgate/syncgate/server/waitclient"
	"github.com/syncgate/syncgate/testing/cluster"
	"github.com/syncgate/syncgate/testing/demo"
	"github.com/syncgate/syncgate/testing/gitserver"
	"github.com/syncgate/syncgate/testing/proc"
	"github.com/syncgate/syncgate/testing/statuswatch"
)

const webhookSecret = "bench-bigrepo-webhook-secret"

// runAgent follows the served repository with the syncgate binary on a
// fresh local control plane; *head is the served head, moved by the
// commits it pushes.
func runAgent(ctx context.Context, o options, info *repoInfo, g *gitserver.Server, served string, head *string) ([]*row, error) {
	root, err := cluster.RepoRoot()
	if err != nil {
		return nil, err
	}
	work, cleanup, err := benchenv.WorkDir("bigrepo-agent", false)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	bin, err := benchenv.Build(ctx, work)
	if err != nil {
		return nil, err
	}
	ns := o.shape.Namespace
	c, err := benchenv.StartCluster(ctx, root, ns)
	if err != nil {
		return nil, err
	}
	defer c.Stop()
	dyn, err := dynamic.NewForConfig(c.RESTConfig())
	if err != nil {
		return nil, err
	}
	deployed, err := statuswatch.StartDeployed(ctx, dyn, ns)
	if err != nil {
		return nil, err
	}
	began := time.Now()
	agent, err := benchenv.StartAgent(ctx, benchenv.AgentOptions{
		Bin: bin, Work: work, RepoURL: g.HTTPURL("big"), Kubeconfig: c.KubeconfigPath(), Namespaces: []string{ns},
		Secret: webhookSecret, Env: []string{"ALLOW_OWN_NAMESPACE=true"},
	})
	if err != nil {
		return nil, err
	}
	defer agent.Stop(15 * time.Second)
	var peakAnon atomic.Int64
	go func() {
		for !agent.Exited() {
			if v, err := proc.Memory(agent.Pid(), "RssAnon"); err == nil && v > peakAnon.Load() {
				peakAnon.Store(v)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	// /wait on commits syncgate has (old ones): the answer's time.
	wait := func(sha string) (time.Duration, error) {
		t0 := time.Now()
		res := waitclient.Wait(ctx, sha, waitclient.Options{URLs: []string{agent.URL}, Namespace: ns, Timeout: 30 * time.Minute})
		if res.Outcome != waitclient.Deployed {
			return 0, fmt.Errorf("/wait/%s: %v %v\n%s", sha, res.Outcome, res.Err, agent.LogTail(3000))
		}
		return time.Since(t0), nil
	}
	// A new commit: when its Version records it deployed.
	await := func(sha string) (time.Time, error) {
		at, err := deployed.Await(ctx, 30*time.Minute, statuswatch.DeployedKey(ns, sha))
		if err != nil {
			return at, fmt.Errorf("%w\n%s", err, agent.LogTail(3000))
		}
		return at, nil
	}
	start := &row{name: "syncgate binary: start → head deployed (clone included)"}
	done, err := await(*head)
	if err != nil {
		return nil, err
	}
	start.add(done.Sub(began), 0, 0)
	start.note = headMoved(agent.LogTail(1 << 20))

	old := &row{name: "syncgate binary: `GET /wait/<7-character prefix>` of the first commit", note: "answered deployed: an ancestor of the deployed head"}
	middle := &row{name: fmt.Sprintf("syncgate binary: `GET /wait/<7-character prefix>` of commit %d", o.shape.Commits-o.shape.Commits/2)}
	push := &row{name: "syncgate binary: a commit pushed, webhook → deployed"}
	for rep := range o.reps {
		for _, q := range []struct {
			r   *row
			sha string
		}{{old, info.First}, {middle, info.Middle}} {
			d, err := wait(q.sha[:7])
			if err != nil {
				return nil, err
			}
			q.r.add(d, 0, 0)
		}
		if *head, err = appendCommits(ctx, served, *head, o.shape, 1, 1000+rep); err != nil {
			return nil, err
		}
		t0 := time.Now()
		if err := demo.PostPush(ctx, agent.URL, webhookSecret, *head); err != nil {
			return nil, err
		}
		done, err := await(*head)
		if err != nil {
			return nil, err
		}
		push.add(done.Sub(t0), 0, 0)
	}
	peak, err := proc.Memory(agent.Pid(), "VmHWM")
	if err != nil {
		return nil, err
	}
	rss, err := agent.RSS()
	if err != nil {
		return nil, err
	}
	mem := &row{name: "syncgate binary: memory over the whole run", note: fmt.Sprintf("RSS at the end %d MB", rss>>20),
		anon: []int64{peakAnon.Load()}, peaks: []int64{peak}}
	return []*row{start, old, middle, push, mem}, nil
}

var headMovedLine = regexp.MustCompile(`msg="config repo head moved".*previous="" fetched=true duration=(\S+)`)

// headMoved is what the agent logged of its first fetch.
func headMoved(log string) string {
	if m := headMovedLine.FindStringSubmatch(log); m != nil {
		return "the clone itself: " + m[1] + " (agent log)"
	}
	return ""
}
