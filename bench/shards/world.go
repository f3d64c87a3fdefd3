package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/syncgate/syncgate/bench/internal/benchenv"
	"github.com/syncgate/syncgate/testing/cluster"
	"github.com/syncgate/syncgate/testing/demo"
	"github.com/syncgate/syncgate/testing/gitserver"
)

// home is the replicas' own namespace: their Leases live there.
const home = "syncgate-bench"

const secret = "bench-shards-secret"

// world is what both scenarios share: one control plane, one git server,
// the binary, and the Versions watched.
type world struct {
	o          *options
	bin, work  string
	c          *cluster.Cluster
	git        *gitserver.Server
	kube       kubernetes.Interface
	dyn        dynamic.Interface
	deployed   *benchenv.Deployed
	verdicts   *verdicts
	namespaces []string
	stopWatch  context.CancelFunc
}

func startWorld(ctx context.Context, o *options, bin, work string) (*world, error) {
	root, err := cluster.RepoRoot()
	if err != nil {
		return nil, err
	}
	w := &world{o: o, bin: bin, work: work, verdicts: newVerdicts()}
	if w.c, err = benchenv.StartCluster(ctx, root, home); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			w.close()
		}
	}()
	if w.git, err = gitserver.Start(ctx, gitserver.Options{}); err != nil {
		return nil, err
	}
	if w.kube, err = kubernetes.NewForConfig(w.c.RESTConfig()); err != nil {
		return nil, err
	}
	if w.dyn, err = dynamic.NewForConfig(w.c.RESTConfig()); err != nil {
		return nil, err
	}
	wctx, stopWatch := context.WithCancel(ctx)
	w.stopWatch = stopWatch
	if w.deployed, err = benchenv.WatchDeployed(wctx, w.c.RESTConfig(), w.verdicts.note); err != nil {
		return nil, err
	}
	for i := range o.namespaces {
		w.namespaces = append(w.namespaces, fmt.Sprintf("bench-s%02d", i))
	}
	ok = true
	return w, nil
}

func (w *world) close() {
	if w.stopWatch != nil {
		w.stopWatch()
	}
	if w.git != nil {
		w.git.Close()
	}
	w.c.Stop()
}

// makeNamespaces creates the managed namespaces, each with the
// ServiceAccount syncgate applies as.
func (w *world) makeNamespaces(ctx context.Context) error {
	if err := benchenv.CreateNamespaces(ctx, w.kube, w.namespaces); err != nil {
		return err
	}
	for _, ns := range w.namespaces {
		if err := demo.BindServiceAccount(ctx, w.kube, ns); err != nil {
			return err
		}
	}
	return nil
}

// firstFiles is a first commit of one ConfigMap per namespace; allFiles
// every namespace's objects.
func (w *world) firstFiles() map[string]string {
	files := map[string]string{}
	for _, ns := range w.namespaces {
		maps.Copy(files, benchenv.Changed(ns, 0))
	}
	return files
}

func (w *world) allFiles() map[string]string {
	files := map[string]string{}
	for _, ns := range w.namespaces {
		maps.Copy(files, benchenv.Files(ns, w.o.perNS, 0))
	}
	return files
}

// startReplicas starts the replicas of a scenario together, each behind a
// proxy of its own.
func (w *world) startReplicas(ctx context.Context, scenario string, shards int, repoURL string) ([]*replica, error) {
	rs := make([]*replica, w.o.replicas)
	errs := make(chan error, len(rs))
	for k := range rs {
		go func() {
			name := fmt.Sprintf("replica-%d", k)
			dir := fmt.Sprintf("%s/%s-%s", w.work, scenario, name)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				errs <- err
				return
			}
			a, err := benchenv.StartProxiedAgent(ctx, w.c.RESTConfig(), benchenv.AgentOptions{
				Bin: w.bin, Work: dir, RepoURL: repoURL, Namespaces: w.namespaces, Secret: secret,
				Env: []string{
					"APPLY_SERVICE_ACCOUNT=" + demo.ApplyServiceAccount,
					"POD_NAMESPACE=" + home, "POD_NAME=" + name,
					fmt.Sprintf("SHARDS=%d", shards), "LEASE_DURATION=" + w.o.lease.String(),
				},
			})
			if err == nil {
				rs[k] = &replica{ProxiedAgent: a, name: name, log: dir + "/syncgate.log"}
			}
			errs <- err
		}()
	}
	var first error
	for range rs {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	if first != nil {
		stopReplicas(rs)
		return nil, first
	}
	return rs, nil
}

func stopReplicas(rs []*replica) {
	for _, r := range rs {
		switch {
		case r == nil:
		case r.killed:
			r.Proxy.Close()
		default:
			r.StopAll()
		}
	}
}

// replica is one syncgate process of a scenario.
type replica struct {
	*benchenv.ProxiedAgent
	name   string
	log    string
	killed bool
}

// await waits until sha is deployed in every namespace and returns when.
func (w *world) await(ctx context.Context, sha string, limit time.Duration) (time.Time, error) {
	return w.deployed.Await(ctx, sha, w.namespaces, limit)
}
