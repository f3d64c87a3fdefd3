package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// A Deployment scaled by hand is put back by drift correction; an event says so.
func TestDriftCorrection(t *testing.T) {
	e := newEnv(t, "DRIFT_INTERVAL=1s")
	ns := e.ns
	ctx := context.Background()
	sha := e.commit("base", map[string]string{ns + "/deploy.yaml": deployment("web", "registry.example.com/web:1", "")})
	e.start()
	code, _ := e.waitFinal(sha)
	require.Equal(t, http.StatusOK, code)

	_, err := e.kube.AppsV1().Deployments(ns).Patch(ctx, "web", types.MergePatchType, []byte(`{"spec":{"replicas":7}}`), metav1.PatchOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		d, err := e.kube.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		return err == nil && *d.Spec.Replicas == 2
	}, 20*time.Second, 50*time.Millisecond, "replicas restored from the commit")
	require.Eventually(t, func() bool {
		evs, err := e.kube.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false
		}
		for _, ev := range evs.Items {
			if ev.Reason == "DriftCorrected" && ev.InvolvedObject.Kind == "Version" {
				return true
			}
		}
		return false
	}, 10*time.Second, 50*time.Millisecond, "an Event on the Version")
}
