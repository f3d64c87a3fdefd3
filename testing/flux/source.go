package flux

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"maps"
	"time"

	"k8s.io/client-go/dynamic"
)

// Source is one GitRepository and a Kustomization per namespace (named as
// it, path ./<namespace>), whose revisions the benchmark publishes itself.
type Source struct {
	dyn        dynamic.Interface
	art        *ArtifactServer
	Name       string
	Namespaces []string
	tree       map[string]string // the files so far
	revisions  int
}

// NewSource creates GitRepository name and a Kustomization per namespace.
func NewSource(ctx context.Context, dyn dynamic.Interface, art *ArtifactServer, name string, namespaces []string) (*Source, error) {
	s := &Source{dyn: dyn, art: art, Name: name, Namespaces: namespaces, tree: map[string]string{}}
	if err := createGitRepository(ctx, dyn, name); err != nil {
		return nil, err
	}
	for _, ns := range namespaces {
		k := kustomizationSpec{Name: ns, Source: name, Path: "./" + ns, TargetNamespace: ns}
		if err := createKustomization(ctx, dyn, k); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Publish packs the whole tree with files written over it and records it
// as the GitRepository's artifact, as source-controller would after a
// fetch; the controller sees the new revision through its watch. at is
// when the artifact was packed and about to be recorded.
func (s *Source) Publish(ctx context.Context, files map[string]string) (revision string, at time.Time, err error) {
	maps.Copy(s.tree, files)
	s.revisions++
	sum := sha1.Sum(fmt.Appendf(nil, "%s %d", s.Name, s.revisions))
	a, err := s.art.publish(s.Name, gitRevision("main", hex.EncodeToString(sum[:])), s.tree)
	if err != nil {
		return "", time.Time{}, err
	}
	at = time.Now()
	if err := setArtifact(ctx, s.dyn, s.Name, a); err != nil {
		return "", time.Time{}, err
	}
	return a.Revision, at, nil
}

// Forget deletes the Kustomizations and the GitRepository (see forget).
func (s *Source) Forget(ctx context.Context) error {
	if err := forget(ctx, s.dyn, kustomizations, s.Namespaces...); err != nil {
		return err
	}
	return forget(ctx, s.dyn, gitRepositories, s.Name)
}
