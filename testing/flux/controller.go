package flux

import (
	"context"
	"fmt"
	"net/http"
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
	c := &Controller{Proc: p}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := http.Get("http://" + health + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return c, nil
			}
		}
		select {
		case <-p.Done():
			return nil, fmt.Errorf("kustomize-controller exited: %v\n%s", p.Err(), p.LogTail(4000))
		case <-ctx.Done():
			p.Stop(10 * time.Second)
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.Stop(10 * time.Second)
			return nil, fmt.Errorf("kustomize-controller not ready on %s:\n%s", health, p.LogTail(4000))
		}
	}
}
