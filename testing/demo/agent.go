package demo

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/syncgate/syncgate/testing/proc"
)

// Agent is a running `syncgate run`.
type Agent struct {
	*proc.Proc
	URL string
}

// StartAgent runs bin with `run` and the given settings (added to this
// process's environment) and waits until it serves /healthz on addr.
func StartAgent(ctx context.Context, bin, addr, logPath string, env []string) (*Agent, error) {
	cmd := exec.Command(bin, "run")
	// The probe listener on a port of its own, so that agents side by side
	// do not contend for PROBE_ADDR's default; env may name one.
	cmd.Env = append(append(os.Environ(), "LISTEN_ADDR="+addr, "PROBE_ADDR=127.0.0.1:0"), env...)
	p, err := proc.Start("syncgate", cmd, logPath)
	if err != nil {
		return nil, err
	}
	a := &Agent{Proc: p, URL: "http://" + addr}
	if err := p.AwaitReady(ctx, proc.Ready{URL: a.URL + "/healthz", Every: 50 * time.Millisecond, Timeout: 30 * time.Second}); err != nil {
		p.Stop(15 * time.Second)
		return nil, err
	}
	return a, nil
}

// BuildSyncgate builds the agent and its kustomize build program
// (./cmd/syncgate and ./cmd/syncgate-render, side by side) of the source
// tree root into dir, as `make build` and deploy/Dockerfile build them
// (keep in step): no cgo, -trimpath, -tags nomsgpack, no symbol table. It
// returns the agent's path.
func BuildSyncgate(ctx context.Context, root, dir string) (string, error) {
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-tags", "nomsgpack", "-ldflags", "-s -w",
		"-o", dir+string(filepath.Separator), "./cmd/syncgate", "./cmd/syncgate-render")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build syncgate: %w\n%s", err, out)
	}
	return filepath.Join(dir, "syncgate"), nil
}
