package cluster

import (
	"context"
	"fmt"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
)

// AwaitAllowed returns once the API server's authorizer allows what spec
// asks, or after a minute with an error. The authorizer reads RBAC objects
// through informers of its own: a binding just created is in force a
// moment later, seconds later on a loaded machine, and a request sent
// before then is refused. A review the API server will not take (the
// caller may not ask, or the spec is invalid) ends the wait at once.
func AwaitAllowed(ctx context.Context, kube kubernetes.Interface, spec authorizationv1.SubjectAccessReviewSpec) error {
	var last string
	err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		r, err := kube.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: spec}, metav1.CreateOptions{})
		switch {
		case apierrors.IsForbidden(err), apierrors.IsInvalid(err), apierrors.IsBadRequest(err):
			return false, err // the review itself is refused: asking again gets the same answer
		case err != nil:
			last = err.Error()
			return false, nil
		case !r.Status.Allowed:
			last = "refused: " + r.Status.Reason
		}
		return r.Status.Allowed, nil
	})
	switch {
	case err != nil && last != "":
		return fmt.Errorf("%s %v: %w (%s)", spec.User, spec.ResourceAttributes, err, last)
	case err != nil:
		return fmt.Errorf("%s %v: %w", spec.User, spec.ResourceAttributes, err)
	}
	return nil
}

// ServiceAccountReview is the review of what namespace's ServiceAccount
// name may do, asked as its token would be judged (its groups included).
func ServiceAccountReview(namespace, name string, attrs authorizationv1.ResourceAttributes) authorizationv1.SubjectAccessReviewSpec {
	return authorizationv1.SubjectAccessReviewSpec{
		User:               "system:serviceaccount:" + namespace + ":" + name,
		Groups:             []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"},
		ResourceAttributes: &attrs,
	}
}
