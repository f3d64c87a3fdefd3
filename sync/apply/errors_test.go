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
		stored    bool // a write that failed so may have been stored
	}{
		{"typed patch refused with 500", apierrors.NewInternalError(errors.New("failed to create typed patch object (team/web; apps/v1, Kind=Deployment): .spec.replicas: expected numeric (int or float), got string")), false, false},
		{"invalid", apierrors.NewInvalid(schema.GroupKind{Group: "apps", Kind: "Deployment"}, "web", nil), false, false},
		{"forbidden", apierrors.NewForbidden(gr, "web", errors.New("no")), false, false},
		{"bad request", apierrors.NewBadRequest(`admission webhook "x" denied the request`), false, false},
		{"unknown kind", &meta.NoKindMatchError{GroupKind: schema.GroupKind{Kind: "Widget"}}, false, false},
		{"etcd timeout in a 500", apierrors.NewInternalError(errors.New("etcdserver: request timed out")), true, true},
		{"webhook unreachable in a 500", apierrors.NewInternalError(errors.New(`Internal error occurred: failed calling webhook "x": connection refused`)), true, true},
		{"service unavailable", apierrors.NewServiceUnavailable("shutting down"), true, false},
		{"too many requests", apierrors.NewTooManyRequests("slow down", 1), true, false},
		{"server timeout", apierrors.NewServerTimeout(gr, "patch", 1), true, true},
		{"unauthorized", apierrors.NewUnauthorized("token expired"), true, false},
		{"connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, true, true},
		{"deadline", context.DeadlineExceeded, true, true},
		{"500 with no body, not the API server's", apierrors.NewGenericServerResponse(500, "PATCH", gr, "web", "", 0, true), true, true},
		{"502 from a proxy in front", apierrors.NewGenericServerResponse(502, "PATCH", gr, "web", "<html>Bad Gateway</html>", 0, true), true, true},
		{"404 page not found, not the API server's", apierrors.NewGenericServerResponse(404, "PATCH", gr, "web", "404 page not found", 0, true), false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.transient, Transient(tc.err))
			require.Equal(t, tc.transient, Transient(wrap(tc.err)), "wrapped as Apply returns it")
			require.Equal(t, tc.stored, mayHaveTakenEffect(tc.err), "may have been stored")
		})
	}
	require.False(t, Transient(nil))
	require.False(t, mayHaveTakenEffect(nil))
}
