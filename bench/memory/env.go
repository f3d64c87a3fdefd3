package main

import (
	"context"
	"fmt"
	"maps"
	"os"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/syncgate/syncgate/bench/internal/benchenv"
	"github.com/syncgate/syncgate/testing/cluster"
	"github.com/syncgate/syncgate/testing/flux"
	"github.com/syncgate/syncgate/testing/gitserver"
	"github.com/syncgate/syncgate/testing/statuswatch"
)

// agentNamespace is syncgate's own (POD_NAMESPACE), never managed.
const agentNamespace = "syncgate-system"

// env is what every run shares: one control plane, one git server, one
// artifact server for Flux, and watches on both tools' reports.
type env struct {
	o        *options
	work     string
	c        *cluster.Cluster
	kube     kubernetes.Interface
	dyn      dynamic.Interface
	git      *gitserver.Server
	art      *flux.ArtifactServer
	ready    *statuswatch.Watch // Kustomizations Ready at a revision
	deployed *statuswatch.Watch // Versions deployed at a sha
	runs     int                // names each run's namespaces and repos apart
}

func start(ctx context.Context, o *options, work string) (*env, error) {
	e := &env{o: o, work: work}
	ok := false
	defer func() {
		if !ok {
			e.close()
		}
	}()
	root, err := cluster.RepoRoot()
	if err != nil {
		return nil, err
	}
	logf := func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
	if o.flux {
		if _, err := flux.KustomizeController.Ensure(ctx, logf); err != nil {
			return nil, err
		}
	}
	if e.c, err = benchenv.StartCluster(ctx, root, agentNamespace); err != nil {
		return nil, err
	}
	if e.kube, err = kubernetes.NewForConfig(e.c.RESTConfig()); err != nil {
		return nil, err
	}
	if e.dyn, err = dynamic.NewForConfig(e.c.RESTConfig()); err != nil {
		return nil, err
	}
	if e.deployed, err = statuswatch.StartDeployed(ctx, e.dyn, ""); err != nil {
		return nil, err
	}
	if e.git, err = gitserver.Start(ctx, gitserver.Options{}); err != nil {
		return nil, err
	}
	if o.flux {
		if e.ready, e.art, err = benchenv.PrepareFlux(ctx, e.c.RESTConfig(), e.kube, e.dyn); err != nil {
			return nil, err
		}
	}
	ok = true
	return e, nil
}

func (e *env) close() {
	if e.art != nil {
		e.art.Close()
	}
	if e.git != nil {
		e.git.Close()
	}
	if e.c != nil {
		e.c.Stop()
	}
}

// namespaces are n fresh namespace names for one run, created.
func (e *env) namespaces(ctx context.Context, tag string, n int) ([]string, error) {
	e.runs++
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("mem%d-%s-%03d", e.runs, tag, i)
	}
	return names, e.createNamespaces(ctx, names)
}

// manyNamespaces creates the namespaces of scenario many and returns them
// with the files of their objects.
func (e *env) manyNamespaces(ctx context.Context, tag string) ([]string, map[string]string, error) {
	namespaces, err := e.namespaces(ctx, tag, e.o.namespaces)
	if err != nil {
		return nil, nil, err
	}
	all := map[string]string{}
	for _, ns := range namespaces {
		maps.Copy(all, benchenv.Files(ns, e.o.perNS, 0))
	}
	return namespaces, all, nil
}

func (e *env) createNamespaces(ctx context.Context, names []string) error {
	return benchenv.CreateNamespaces(ctx, e.kube, names)
}

func (e *env) deleteNamespaces(ctx context.Context, names []string) error {
	return benchenv.DeleteNamespaces(ctx, e.kube, names)
}
