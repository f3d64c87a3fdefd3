package benchenv

import (
	"context"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/syncgate/syncgate/testing/flux"
	"github.com/syncgate/syncgate/testing/statuswatch"
)

// PrepareFlux readies a control plane for Flux's kustomize-controller
// beside syncgate: its CRDs installed, its namespace created, the
// Kustomizations' Ready watched (ready), and an artifact server started for
// the GitRepository's revisions (art, to be closed by the caller).
func PrepareFlux(ctx context.Context, cfg *rest.Config, kube kubernetes.Interface, dyn dynamic.Interface) (ready *statuswatch.Watch, art *flux.ArtifactServer, err error) {
	if err := flux.InstallCRDs(ctx, cfg); err != nil {
		return nil, nil, err
	}
	if err := CreateNamespaces(ctx, kube, []string{flux.SystemNamespace}); err != nil {
		return nil, nil, err
	}
	if ready, err = flux.WatchReady(ctx, dyn); err != nil {
		return nil, nil, err
	}
	if art, err = flux.StartArtifactServer(); err != nil {
		return nil, nil, err
	}
	return ready, art, nil
}
