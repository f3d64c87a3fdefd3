package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/syncgate/syncgate/testing/flux"
)

// fluxTarget is kustomize-controller with one GitRepository and a
// Kustomization per namespace (named as it, path ./<namespace>).
type fluxTarget struct {
	e    *env
	t    tool
	src  *flux.Source
	ctrl *flux.Controller
}

func (e *env) newFluxTarget(ctx context.Context, t tool, namespaces []string) (*fluxTarget, error) {
	e.runs++
	src, err := flux.NewSource(ctx, e.Dyn, e.Art, fmt.Sprintf("config-%d", e.runs), namespaces)
	if err != nil {
		return nil, err
	}
	return &fluxTarget{e: e, t: t, src: src}, nil
}

func (f *fluxTarget) publish(ctx context.Context, files map[string]string) (string, time.Time, error) {
	return f.src.Publish(ctx, files)
}

func (f *fluxTarget) start(ctx context.Context) (err error) {
	log := filepath.Join(f.e.work, f.src.Name+"-kustomize-controller.log")
	f.ctrl, err = flux.Start(ctx, f.e.Cluster.KubeconfigPath(), log, f.t.tuning, nil)
	return err
}

func (f *fluxTarget) await(ctx context.Context, rev, ns string) (time.Time, error) {
	names := f.src.Namespaces
	if ns != "" {
		names = []string{ns}
	}
	done, err := f.e.Ready.AwaitEach(ctx, f.e.o.timeout, flux.ReadyKey, rev, names...)
	if err != nil {
		return time.Time{}, fmt.Errorf("flux: %w\n%s", err, f.ctrl.LogTail(3000))
	}
	return done, nil
}

func (f *fluxTarget) rss() (int64, error) { return f.ctrl.RSS() }

func (f *fluxTarget) pid() int { return f.ctrl.Pid() }

func (f *fluxTarget) stop(ctx context.Context) error {
	if f.ctrl != nil {
		f.ctrl.Stop(10 * time.Second)
	}
	return f.src.Forget(ctx)
}
