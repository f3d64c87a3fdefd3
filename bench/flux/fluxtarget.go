package main

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"maps"
	"path/filepath"
	"time"

	"github.com/syncgate/syncgate/testing/flux"
)

// fluxTarget is kustomize-controller with one GitRepository and a
// Kustomization per namespace (named as it, path ./<namespace>).
type fluxTarget struct {
	e          *env
	t          tool
	source     string
	namespaces []string
	tree       map[string]string // the source's files so far
	revisions  int
	ctrl       *flux.Controller
}

func (e *env) newFluxTarget(ctx context.Context, t tool, namespaces []string) (*fluxTarget, error) {
	e.runs++
	f := &fluxTarget{e: e, t: t, source: fmt.Sprintf("config-%d", e.runs), namespaces: namespaces, tree: map[string]string{}}
	if err := flux.CreateGitRepository(ctx, e.dyn, f.source); err != nil {
		return nil, err
	}
	for _, ns := range namespaces {
		k := flux.KustomizationSpec{Name: ns, Source: f.source, Path: "./" + ns, TargetNamespace: ns}
		if err := flux.CreateKustomization(ctx, e.dyn, k); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// publish packs the whole tree with files written over it and records it
// as the GitRepository's artifact, as source-controller would after a
// fetch; the controller sees the new revision through its watch.
func (f *fluxTarget) publish(ctx context.Context, files map[string]string) (string, time.Time, error) {
	maps.Copy(f.tree, files)
	f.revisions++
	sum := sha1.Sum(fmt.Appendf(nil, "%s %d", f.source, f.revisions))
	a, err := f.e.art.Publish(f.source, flux.GitRevision("main", hex.EncodeToString(sum[:])), f.tree)
	if err != nil {
		return "", time.Time{}, err
	}
	at := time.Now()
	if err := flux.SetArtifact(ctx, f.e.dyn, f.source, a); err != nil {
		return "", time.Time{}, err
	}
	return a.Revision, at, nil
}

func (f *fluxTarget) start(ctx context.Context) (err error) {
	log := filepath.Join(f.e.work, f.source+"-kustomize-controller.log")
	f.ctrl, err = flux.Start(ctx, f.e.c.KubeconfigPath(), log, f.t.tuning, nil)
	return err
}

func (f *fluxTarget) await(ctx context.Context, rev, ns string) (time.Time, error) {
	names := f.namespaces
	if ns != "" {
		names = []string{ns}
	}
	done, err := f.e.ready.AwaitEach(ctx, f.e.o.timeout, flux.ReadyKey, rev, names...)
	if err != nil {
		return time.Time{}, fmt.Errorf("flux: %w\n%s", err, f.ctrl.LogTail(3000))
	}
	return done, nil
}

func (f *fluxTarget) rss() (int64, error) { return f.ctrl.RSS() }

func (f *fluxTarget) stop(ctx context.Context) error {
	if f.ctrl != nil {
		f.ctrl.Stop(10 * time.Second)
	}
	if err := flux.Forget(ctx, f.e.dyn, flux.Kustomizations, f.namespaces...); err != nil {
		return err
	}
	return flux.Forget(ctx, f.e.dyn, flux.GitRepositories, f.source)
}
