package cluster_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/syncgate/syncgate/testing/cluster"
)

// A review the API server refuses to take is not waited on: asking again
// gets the same answer.
func TestAwaitAllowedReturnsAtOnceOnARefusedReview(t *testing.T) {
	c := cluster.Shared(t)
	attrs := &authorizationv1.ResourceAttributes{Verb: "get", Resource: "configmaps", Namespace: "default"}
	nobody := c.RESTConfig()
	nobody.Impersonate = rest.ImpersonationConfig{UserName: "nobody"}
	for _, tc := range []struct {
		name    string
		cfg     *rest.Config
		spec    authorizationv1.SubjectAccessReviewSpec
		refused func(error) bool
	}{
		{"asked by who may not", nobody, authorizationv1.SubjectAccessReviewSpec{User: "someone", ResourceAttributes: attrs}, apierrors.IsForbidden},
		{"invalid", c.RESTConfig(), authorizationv1.SubjectAccessReviewSpec{ResourceAttributes: attrs}, apierrors.IsInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kube, err := kubernetes.NewForConfig(tc.cfg)
			require.NoError(t, err)
			// Well under AwaitAllowed's minute: a retried refusal runs out.
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			err = cluster.AwaitAllowed(ctx, kube, tc.spec)
			require.True(t, tc.refused(err), "%v", err)
		})
	}
}
