package main

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"maps"
	"path/filepath"
	"time"

	"github.com/syncgate/syncgate/bench/internal/benchenv"
	"github.com/syncgate/syncgate/testing/flux"
)

// fluxRun is kustomize-controller at its defaults with one GitRepository
// and a Kustomization per namespace (named as it, path ./<namespace>).
type fluxRun struct {
	e          *env
	source     string
	namespaces []string
	tree       map[string]string // the source's files so far
	revisions  int
	ctrl       *flux.Controller
}

func (e *env) measureFlux(ctx context.Context) *column {
	col := &column{name: "Flux kustomize-controller"}
	if e.o.scenarios["one"] {
		col.fail("one", e.fluxOne(ctx, col))
	}
	if e.o.scenarios["many"] {
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
	return e.deleteNamespaces(ctx, namespaces)
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
	return e.deleteNamespaces(ctx, namespaces)
}

// newFluxRun publishes first, starts the controller and waits until every
// namespace's Kustomization is Ready at it.
func (e *env) newFluxRun(ctx context.Context, namespaces []string, first map[string]string) (*fluxRun, error) {
	f := &fluxRun{e: e, source: fmt.Sprintf("config-%d", e.runs), namespaces: namespaces, tree: map[string]string{}}
	if err := flux.CreateGitRepository(ctx, e.dyn, f.source); err != nil {
		return nil, err
	}
	for _, ns := range namespaces {
		k := flux.KustomizationSpec{Name: ns, Source: f.source, Path: "./" + ns, TargetNamespace: ns}
		if err := flux.CreateKustomization(ctx, e.dyn, k); err != nil {
			return nil, err
		}
	}
	rev, err := f.publish(ctx, first)
	if err != nil {
		return nil, err
	}
	log := filepath.Join(e.work, f.source+"-kustomize-controller.log")
	if f.ctrl, err = flux.Start(ctx, e.c.KubeconfigPath(), log, flux.Tuning{}, nil); err != nil {
		return nil, err
	}
	if err := f.await(ctx, rev); err != nil {
		f.stop(ctx)
		return nil, err
	}
	return f, nil
}

// publish packs the whole tree with files written over it and records it
// as the GitRepository's artifact, as source-controller would.
func (f *fluxRun) publish(ctx context.Context, files map[string]string) (string, error) {
	maps.Copy(f.tree, files)
	f.revisions++
	sum := sha1.Sum(fmt.Appendf(nil, "%s %d", f.source, f.revisions))
	a, err := f.e.art.Publish(f.source, flux.GitRevision("main", hex.EncodeToString(sum[:])), f.tree)
	if err != nil {
		return "", err
	}
	return a.Revision, flux.SetArtifact(ctx, f.e.dyn, f.source, a)
}

func (f *fluxRun) deploy(ctx context.Context, files map[string]string) (sample, error) {
	rev, err := f.publish(ctx, files)
	if err != nil {
		return sample{}, err
	}
	if err := f.await(ctx, rev); err != nil {
		return sample{}, err
	}
	return sampleOf(ctx, f.ctrl.Pid(), "")
}

func (f *fluxRun) await(ctx context.Context, rev string) error {
	if _, err := f.e.ready.AwaitEach(ctx, f.e.o.timeout, flux.ReadyKey, rev, f.namespaces...); err != nil {
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
	if err := flux.Forget(ctx, f.e.dyn, flux.Kustomizations, f.namespaces...); err != nil {
		return err
	}
	return flux.Forget(ctx, f.e.dyn, flux.GitRepositories, f.source)
}
