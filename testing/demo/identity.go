package demo

import (
	"context"
	"fmt"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/syncgate/syncgate/testing/cluster"
)

// ApplyServiceAccount is the ServiceAccount syncgate applies a managed
// namespace as by default (APPLY_SERVICE_ACCOUNT).
const ApplyServiceAccount = "syncgate"

// BindServiceAccount makes namespace's ServiceAccount syncgate applies it
// as and binds it to ClusterRole admin there only, as
// deploy/base/managed-namespace.yaml does. Objects already there are kept.
// It returns once the API server's authorizer, which reads bindings
// through informers of its own, lets the account write in namespace: a
// binding just created is not yet in force.
func BindServiceAccount(ctx context.Context, kube kubernetes.Interface, namespace string) error {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: ApplyServiceAccount, Namespace: namespace}}
	if _, err := kube.CoreV1().ServiceAccounts(namespace).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("service account of %s: %w", namespace, err)
	}
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: ApplyServiceAccount + "-apply", Namespace: namespace},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "admin"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: ApplyServiceAccount, Namespace: namespace}},
	}
	if _, err := kube.RbacV1().RoleBindings(namespace).Create(ctx, rb, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("bind the service account of %s: %w", namespace, err)
	}
	review := cluster.ServiceAccountReview(namespace, ApplyServiceAccount, authorizationv1.ResourceAttributes{Verb: "patch", Resource: "configmaps", Namespace: namespace})
	if err := cluster.AwaitAllowed(ctx, kube, review); err != nil {
		return fmt.Errorf("binding of the service account of %s not in force: %w", namespace, err)
	}
	return nil
}
