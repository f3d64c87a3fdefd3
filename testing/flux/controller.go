package flux

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/syncgate/syncgate/testing/cluster"
	"github.com/syncgate/syncgate/testing/proc"
)

// KustomizeController is the controller's build, cached as
// <cache>/flux-<version>/kustomize-controller.
var KustomizeController = cluster.Tool{
	Module:   "flux",
	Pin:      "github.com/fluxcd/kustomize-controller",
	Packages: []string{"github.com/fluxcd/kustomize-controller"},
}

// SystemNamespace holds the controller's GitRepositories and Kustomizations
// (its RUNTIME_NAMESPACE).
const SystemNamespace = "flux-system"

// Tuning is the controller's flags that bound its throughput; zero values
// leave the controller's defaults (QPS 50, burst 300, 4 concurrent
// server-side applies, 4 concurrent reconciles).
type Tuning struct {
	QPS, Burst, ConcurrentSSA, Concurrent int
}

// Args are the command-line flags for t.
func (t Tuning) Args() []string {
	var args []string
	add := func(flag string, v int) {
		if v > 0 {
			args = append(args, "--"+flag+"="+strconv.Itoa(v))
		}
	}
	add("kube-api-qps", t.QPS)
	add("kube-api-burst", t.Burst)
	add("concurrent-ssa", t.ConcurrentSSA)
	add("concurrent", t.Concurrent)
	return args
}

// Controller is a running kustomize-controller.
type Controller struct {
	*proc.Proc
}

// Start builds (or reuses) the controller and runs it against kubeconfig,
// watching every namespace, until it answers /readyz. The CRDs must be
// installed first (InstallCRDs): the controller's caches wait on them.
func Start(ctx context.Context, kubeconfig, logPath string, t Tuning, log func(string, ...any)) (*Controller, error) {
	dir, err := KustomizeController.Ensure(ctx, log)
	if err != nil {
		return nil, err
	}
	health, err := proc.FreeAddr()
	if err != nil {
		return nil, err
	}
	args := append([]string{
		"--metrics-addr=0", // off
		"--health-addr=" + health,
		"--watch-all-namespaces=true",
		"--enable-leader-election=false",
		"--log-encoding=json",
		"--log-level=info",
	}, t.Args()...)
	cmd := exec.Command(filepath.Join(dir, "kustomize-controller"), args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig, "RUNTIME_NAMESPACE="+SystemNamespace)
	p, err := proc.Start("kustomize-controller", cmd, logPath)
	if err != nil {
		return nil, err
	}
	if err := p.AwaitReady(ctx, proc.Ready{URL: "http://" + health + "/readyz", Timeout: 2 * time.Minute}); err != nil {
		p.Stop(10 * time.Second)
		return nil, err
	}
	return &Controller{Proc: p}, nil
}
