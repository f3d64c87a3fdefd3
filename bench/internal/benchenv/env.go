// Package benchenv is what the benchmarks that run syncgate share: the
// command run under the interrupt context in its work directory, this
// tree's binary built, a fresh local control plane prepared for the agent
// (and for Flux beside it) with a git server, the agent started with the
// settings every benchmark gives it, the objects a generated config repo
// holds, the Versions watched, and the figures printed in tables.
package benchenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/syncgate/syncgate/testing/cluster"
	"github.com/syncgate/syncgate/testing/demo"
	"github.com/syncgate/syncgate/testing/gitserver"
)

// Options name what Start prepares.
type Options struct {
	// Namespace is the agent's own: the Version CRD is installed and the
	// namespace created with the ServiceAccount it applies as.
	Namespace string
	// Repo is the config repo's name on the git server.
	Repo string
}

// Env is a fresh local control plane and a git server holding an empty
// config repo.
type Env struct {
	Root    string // the source tree
	Cluster *cluster.Cluster
	Git     *gitserver.Server
	Repo    *gitserver.Repo
	repo    string
}

// Start starts the control plane and the git server; Close stops them.
func Start(ctx context.Context, o Options) (*Env, error) {
	root, err := cluster.RepoRoot()
	if err != nil {
		return nil, err
	}
	c, err := StartCluster(ctx, root, o.Namespace)
	if err != nil {
		return nil, err
	}
	e := &Env{Root: root, Cluster: c, repo: o.Repo}
	if e.Git, err = gitserver.Start(ctx, gitserver.Options{}); err == nil {
		e.Repo, err = e.Git.CreateRepo(o.Repo)
	}
	if err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

// StartCluster starts a fresh local control plane prepared for the agent
// in namespace (see Options.Namespace), with the CRD from the source tree
// root.
func StartCluster(ctx context.Context, root, namespace string) (*cluster.Cluster, error) {
	return startCluster(ctx, root, namespace, cluster.Options{})
}

func startCluster(ctx context.Context, root, namespace string, o cluster.Options) (*cluster.Cluster, error) {
	fmt.Fprintln(os.Stderr, "starting the local control plane...")
	c, err := cluster.Start(ctx, o)
	if err != nil {
		return nil, err
	}
	if err := demo.PrepareCluster(ctx, c, root, namespace); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// RepoURL is where the agent fetches the config repo from.
func (e *Env) RepoURL() string { return e.Git.HTTPURL(e.repo) }

// Close stops what Start started.
func (e *Env) Close() {
	if e.Git != nil {
		e.Git.Close()
	}
	e.Cluster.Stop()
}

// Build builds this tree's agent and its build program as the image
// builds them, installs them into dir as an image would (install), and
// returns the agent's path. Every benchmark that runs the agent starts it
// from here, so that its memory is a deployed agent's.
func Build(ctx context.Context, dir string) (string, error) {
	root, err := cluster.RepoRoot()
	if err != nil {
		return "", err
	}
	built, err := demo.BuildSyncgate(ctx, root, filepath.Join(dir, "build"))
	if err != nil {
		return "", err
	}
	return install(built, dir)
}

// WorkDir is a fresh directory for a benchmark's builds and the tools'
// logs; done removes it, unless keep, when its path is printed instead so
// the logs can be read.
func WorkDir(name string, keep bool) (dir string, done func(), err error) {
	dir, err = os.MkdirTemp("", "syncgate-bench-"+name+"-")
	if err != nil {
		return "", nil, err
	}
	if keep {
		fmt.Fprintln(os.Stderr, "logs in", dir)
		return dir, func() {}, nil
	}
	return dir, func() { _ = os.RemoveAll(dir) }, nil
}
