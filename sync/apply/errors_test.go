package apply

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestTransientTellsTroubleFromRefusal(t *testing.T) {
	gr := schema.GroupResource{Group: "apps", Resource: "deployments"}
	wrap := func(err error) error { return fmt.Errorf("dry run %w", &ObjectError{Err: err}) }
	cases := []struct {
		name      string
		err       error
		transient bool
	}{
		{"typed patch refused with 500", apierrors.NewInternalError(errors.New("failed to create typed patch object (team/web; apps/v1, Kind=Deployment): .spec.replicas: expected numeric (int or float), got string")), false},
		{"invalid", apierrors.NewInvalid(schema.GroupKind{Group: "apps", Kind: "Deployment"}, "web", nil), false},
		{"forbidden", apierrors.NewForbidden(gr, "web", errors.New("no")), false},
		{"bad request", apierrors.NewBadRequest(`admission webhook "x" denied the request`), false},
		{"unknown kind", &meta.NoKindMatchError{GroupKind: schema.GroupKind{Kind: "Widget"}}, false},
		{"etcd timeout in a 500", apierrors.NewInternalError(errors.New("etcdserver: request timed out")), true},
		{"webhook unreachable in a 500", apierrors.NewInternalError(errors.New(`Internal error occurred: failed calling webhook "x": connection refused`)), true},
		{"service unavailable", apierrors.NewServiceUnavailable("shutting down"), true},
		{"too many requests", apierrors.NewTooManyRequests("slow down", 1), true},
		{"server timeout", apierrors.NewServerTimeout(gr, "patch", 1), true},
		{"unauthorized", apierrors.NewUnauthorized("token expired"), true},
		{"connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, true},
		{"deadline", context.DeadlineExceeded, true},
		{"500 with no body, not the API server's", apierrors.NewGenericServerResponse(500, "PATCH", gr, "web", "", 0, true), true},
		{"502 from a proxy in front", apierrors.NewGenericServerResponse(502, "PATCH", gr, "web", "<html>Bad Gateway</html>", 0, true), true},
		{"404 page not found, not the API server's", apierrors.NewGenericServerResponse(404, "PATCH", gr, "web", "404 page not found", 0, true), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.transient, Transient(tc.err))
			require.Equal(t, tc.transient, Transient(wrap(tc.err)), "wrapped as Apply returns it")
		})
	}
	require.False(t, Transient(nil))
}
