package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/syncgate/syncgate/bench/internal/benchenv"
	"github.com/syncgate/syncgate/testing/flux"
)

// fluxRun is kustomize-controller at its defaults with one GitRepository
// and a Kustomization per namespace (named as it, path ./<namespace>).
type fluxRun struct {
	e    *env
	src  *flux.Source
	ctrl *flux.Controller
}

func (e *env) measureFlux(ctx context.Context) *column {
	col := &column{name: "Flux kustomize-controller"}
	if e.o.scenarios.Has("one") {
		col.fail("one", e.fluxOne(ctx, col))
	}
	if e.o.scenarios.Has("many") {
		col.fail("many", e.fluxMany(ctx, col))
	}
	return col
}

func (e *env) fluxOne(ctx context.Context, col *column) error {
	namespaces, err := e.namespaces(ctx, "flux-one", 1)
	if err != nil {
		return err
	}
	ns := namespaces[0]
	f, err := e.newFluxRun(ctx, namespaces, benchenv.Changed(ns, 0))
	if err != nil {
		return err
	}
	defer f.stop(ctx)
	if col.idle, err = settled(ctx, e.o.settle, f.ctrl.Pid(), ""); err != nil {
		return err
	}
	e.logf("flux", "idle", col.idle)
	if _, err := f.deploy(ctx, benchenv.Files(ns, e.o.objects, 0)); err != nil {
		return err
	}
	if col.synced, err = settled(ctx, e.o.settle, f.ctrl.Pid(), ""); err != nil {
		return err
	}
	e.logf("flux", fmt.Sprintf("after %d objects", e.o.objects), col.synced)
	for i := 1; i <= e.o.fluxCommits; i++ {
		s, err := f.deploy(ctx, benchenv.Changed(ns, i))
		if err != nil {
			return err
		}
		col.commits = append(col.commits, s)
	}
	if col.after, err = settled(ctx, e.o.settle, f.ctrl.Pid(), ""); err != nil {
		return err
	}
	if err := f.stop(ctx); err != nil {
		return err
	}
	return e.DeleteNamespaces(ctx, namespaces)
}

func (e *env) fluxMany(ctx context.Context, col *column) error {
	namespaces, all, err := e.manyNamespaces(ctx, "flux-many")
	if err != nil {
		return err
	}
	f, err := e.newFluxRun(ctx, namespaces, all)
	if err != nil {
		return err
	}
	defer f.stop(ctx)
	if col.many, err = settled(ctx, e.o.settle, f.ctrl.Pid(), ""); err != nil {
		return err
	}
	col.manyNote = fmt.Sprintf("%d × %d", e.o.namespaces, e.o.perNS)
	e.logf("flux", "many", col.many)
	if err := f.stop(ctx); err != nil {
		return err
	}
	return e.DeleteNamespaces(ctx, namespaces)
}

// newFluxRun publishes first, starts the controller and waits until every
// namespace's Kustomization is Ready at it.
func (e *env) newFluxRun(ctx context.Context, namespaces []string, first map[string]string) (*fluxRun, error) {
	src, err := flux.NewSource(ctx, e.Dyn, e.Art, fmt.Sprintf("config-%d", e.runs), namespaces)
	if err != nil {
		return nil, err
	}
	f := &fluxRun{e: e, src: src}
	rev, _, err := src.Publish(ctx, first)
	if err != nil {
		return nil, err
	}
	log := filepath.Join(e.work, src.Name+"-kustomize-controller.log")
	if f.ctrl, err = flux.Start(ctx, e.Cluster.KubeconfigPath(), log, flux.Tuning{}, nil); err != nil {
		return nil, err
	}
	if err := f.await(ctx, rev); err != nil {
		f.stop(ctx)
		return nil, err
	}
	return f, nil
}

func (f *fluxRun) deploy(ctx context.Context, files map[string]string) (sample, error) {
	rev, _, err := f.src.Publish(ctx, files)
	if err != nil {
		return sample{}, err
	}
	if err := f.await(ctx, rev); err != nil {
		return sample{}, err
	}
	return sampleOf(ctx, f.ctrl.Pid(), "")
}

func (f *fluxRun) await(ctx context.Context, rev string) error {
	if _, err := f.e.Ready.AwaitEach(ctx, f.e.o.timeout, flux.ReadyKey, rev, f.src.Namespaces...); err != nil {
		return fmt.Errorf("flux: %w\n%s", err, f.ctrl.LogTail(3000))
	}
	return nil
}

func (f *fluxRun) stop(ctx context.Context) error {
	if f.ctrl == nil {
		return nil
	}
	f.ctrl.Stop(10 * time.Second)
	f.ctrl = nil
	return f.src.Forget(ctx)
}
