package benchenv

import (
	"context"
	"fmt"
	"io"
	"os"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/syncgate/syncgate/testing/cluster"
	"github.com/syncgate/syncgate/testing/flux"
	"github.com/syncgate/syncgate/testing/gitserver"
	"github.com/syncgate/syncgate/testing/statuswatch"
)

// Beside is what the benchmarks that run the agent beside Flux's
// kustomize-controller share: a fresh control plane readied for both, a
// git server for the agents' repos, an artifact server for Flux's
// revisions, and watches on both tools' reports.
type Beside struct {
	Cluster  *cluster.Cluster
	Kube     kubernetes.Interface
	Dyn      dynamic.Interface
	Git      *gitserver.Server
	Art      *flux.ArtifactServer // nil without Flux
	Ready    *statuswatch.Watch   // Kustomizations Ready at a revision; nil without Flux
	Deployed *statuswatch.Watch   // Versions deployed at a sha
}

// StartBeside builds (or finds cached) kustomize-controller when withFlux,
// starts the control plane (its progress written to log, if not nil),
// installs the Version CRD and the agent's own namespace, then Flux's
// CRDs and namespace, and starts the git and artifact servers; Close
// stops them.
func StartBeside(ctx context.Context, namespace string, withFlux bool, log io.Writer) (b *Beside, err error) {
	root, err := cluster.RepoRoot()
	if err != nil {
		return nil, err
	}
	if withFlux {
		logf := func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
		if _, err := flux.KustomizeController.Ensure(ctx, logf); err != nil {
			return nil, err
		}
	}
	b = &Beside{}
	defer func() {
		if err != nil {
			b.Close()
		}
	}()
	if b.Cluster, err = startCluster(ctx, root, namespace, cluster.Options{Log: log}); err != nil {
		return nil, err
	}
	if b.Kube, err = kubernetes.NewForConfig(b.Cluster.RESTConfig()); err != nil {
		return nil, err
	}
	if b.Dyn, err = dynamic.NewForConfig(b.Cluster.RESTConfig()); err != nil {
		return nil, err
	}
	if b.Deployed, err = statuswatch.StartDeployed(ctx, b.Dyn, ""); err != nil {
		return nil, err
	}
	if b.Git, err = gitserver.Start(ctx, gitserver.Options{}); err != nil {
		return nil, err
	}
	if withFlux {
		if err := flux.InstallCRDs(ctx, b.Cluster.RESTConfig()); err != nil {
			return nil, err
		}
		if err := CreateNamespaces(ctx, b.Kube, []string{flux.SystemNamespace}); err != nil {
			return nil, err
		}
		if b.Ready, err = flux.WatchReady(ctx, b.Dyn); err != nil {
			return nil, err
		}
		if b.Art, err = flux.StartArtifactServer(); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// Close stops what StartBeside started.
func (b *Beside) Close() {
	if b.Art != nil {
		b.Art.Close()
	}
	if b.Git != nil {
		b.Git.Close()
	}
	if b.Cluster != nil {
		b.Cluster.Stop()
	}
}

// CreateNamespaces creates names.
func (b *Beside) CreateNamespaces(ctx context.Context, names []string) error {
	return CreateNamespaces(ctx, b.Kube, names)
}

// DeleteNamespaces deletes names and waits until they are gone.
func (b *Beside) DeleteNamespaces(ctx context.Context, names []string) error {
	return DeleteNamespaces(ctx, b.Kube, names)
}
