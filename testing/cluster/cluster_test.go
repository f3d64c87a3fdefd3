package cluster_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"github.com/syncgate/syncgate/testing/cluster"
)

func TestMain(m *testing.M) { cluster.Main(m, cluster.Options{}) }

func deployment(name string, replicas int32, annotations map[string]string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: annotations},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/app:1"}}},
			},
		},
	}
}

func client(t *testing.T) (*kubernetes.Clientset, string) {
	t.Helper()
	c := cluster.Shared(t)
	kube, err := kubernetes.NewForConfig(c.RESTConfig())
	require.NoError(t, err)
	return kube, cluster.Namespace(t, c)
}

// onlyPod is the single pod of app, or nil while there is not exactly one.
func onlyPod(t *testing.T, kube kubernetes.Interface, ns, app string) *corev1.Pod {
	t.Helper()
	pods, err := kube.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{LabelSelector: "app=" + app})
	if err != nil || len(pods.Items) != 1 {
		return nil
	}
	return &pods.Items[0]
}

func podCondition(p *corev1.Pod, typ corev1.PodConditionType) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == typ {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

func podReady(p *corev1.Pod) bool {
	c := podCondition(p, corev1.PodReady)
	return c != nil && c.Status == corev1.ConditionTrue
}

func TestDeploymentRollsOutThroughTheRealControllers(t *testing.T) {
	kube, ns := client(t)
	ctx := t.Context()

	d, err := kube.AppsV1().Deployments(ns).Create(ctx, deployment("web", 3, nil), metav1.CreateOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		got, err := kube.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		return err == nil && got.Status.ObservedGeneration >= d.Generation &&
			got.Status.ReadyReplicas == 3 && got.Status.UpdatedReplicas == 3 && got.Status.AvailableReplicas == 3
	}, 30*time.Second, 50*time.Millisecond)

	pods, err := kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	require.NoError(t, err)
	require.Len(t, pods.Items, 3)
	for _, p := range pods.Items {
		require.NotEmpty(t, p.Spec.NodeName, "scheduled by kube-scheduler")
		require.Equal(t, corev1.PodRunning, p.Status.Phase)
		require.True(t, podReady(&p))
	}
}

func TestPodsFailOnRequest(t *testing.T) {
	kube, ns := client(t)
	cases := []struct {
		mode   string
		reason string
		phase  corev1.PodPhase
	}{
		{"crashloop", "CrashLoopBackOff", corev1.PodRunning},
		{"imagepull", "ImagePullBackOff", corev1.PodPending},
		{"configerror", "CreateContainerConfigError", corev1.PodPending},
	}
	for _, tc := range cases {
		t.Run(tc.mode, func(t *testing.T) {
			_, err := kube.AppsV1().Deployments(ns).Create(t.Context(), deployment(tc.mode, 1, map[string]string{cluster.AnnotationFail: tc.mode}), metav1.CreateOptions{})
			require.NoError(t, err)
			var pod *corev1.Pod
			require.Eventually(t, func() bool {
				pod = onlyPod(t, kube, ns, tc.mode)
				return pod != nil && len(pod.Status.ContainerStatuses) == 1
			}, 30*time.Second, 50*time.Millisecond)

			cs := pod.Status.ContainerStatuses[0]
			require.NotNil(t, cs.State.Waiting, "container state %+v", cs.State)
			require.Equal(t, tc.reason, cs.State.Waiting.Reason)
			require.False(t, cs.Ready)
			require.Equal(t, tc.phase, pod.Status.Phase)
			require.False(t, podReady(pod), "a failing pod is not Ready")
			require.NotEmpty(t, pod.Spec.NodeName, "failing pods are scheduled like any other")
		})
	}

	t.Run("crashloop restarts keep counting", func(t *testing.T) {
		pod := onlyPod(t, kube, ns, "crashloop")
		require.NotNil(t, pod)
		first := pod.Status.ContainerStatuses[0].RestartCount
		require.Eventually(t, func() bool {
			p := onlyPod(t, kube, ns, "crashloop")
			if p == nil || len(p.Status.ContainerStatuses) != 1 {
				return false
			}
			cs := p.Status.ContainerStatuses[0]
			return cs.RestartCount >= first+2 && cs.State.Waiting != nil && cs.State.Waiting.Reason == "CrashLoopBackOff" &&
				cs.LastTerminationState.Terminated != nil && cs.LastTerminationState.Terminated.ExitCode == 1 && !podReady(p)
		}, 30*time.Second, 100*time.Millisecond)
	})
}

func TestPodBecomesReadyOnlyAfterItsDelay(t *testing.T) {
	kube, ns := client(t)
	ctx := t.Context()
	const delay = 3 * time.Second

	_, err := kube.AppsV1().Deployments(ns).Create(ctx, deployment("slow", 1, map[string]string{cluster.AnnotationReadyAfter: delay.String()}), metav1.CreateOptions{})
	require.NoError(t, err)
	var running *corev1.Pod
	require.Eventually(t, func() bool {
		running = onlyPod(t, kube, ns, "slow")
		return running != nil && running.Status.Phase == corev1.PodRunning
	}, 30*time.Second, 20*time.Millisecond)
	require.False(t, podReady(running), "running at once, not yet ready")
	require.NotNil(t, running.Status.StartTime)

	var ready *corev1.Pod
	require.Eventually(t, func() bool {
		ready = onlyPod(t, kube, ns, "slow")
		return ready != nil && podReady(ready)
	}, 30*time.Second, 20*time.Millisecond)
	// Both times are kwok's and stored to the second: the gap is at least
	// the delay whenever the real one is.
	readyAt := podCondition(ready, corev1.PodReady).LastTransitionTime
	require.GreaterOrEqual(t, readyAt.Sub(running.Status.StartTime.Time), delay, "ready only after the annotated delay")

	require.Eventually(t, func() bool {
		d, err := kube.AppsV1().Deployments(ns).Get(ctx, "slow", metav1.GetOptions{})
		return err == nil && d.Status.ReadyReplicas == 1
	}, 10*time.Second, 50*time.Millisecond, "the Deployment counts the pod once it is Ready")
}

// A ServiceAccount's own token works where RBAC grants it and is refused
// elsewhere: the API server enforces RBAC and signs tokens with the key the
// controllers share.
func TestServiceAccountTokenIsConfinedByRBAC(t *testing.T) {
	c := cluster.Shared(t)
	kube, err := kubernetes.NewForConfig(c.RESTConfig())
	require.NoError(t, err)
	ctx := t.Context()
	home, other := cluster.Namespace(t, c), cluster.Namespace(t, c)

	_, err = kube.CoreV1().ServiceAccounts(home).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "robot"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = kube.RbacV1().Roles(home).Create(ctx, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "pod-reader"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"list"}}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = kube.RbacV1().RoleBindings(home).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "robot-reads-pods"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "pod-reader"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "robot", Namespace: home}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	tr, err := kube.CoreV1().ServiceAccounts(home).CreateToken(ctx, "robot", &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](600)},
	}, metav1.CreateOptions{})
	require.NoError(t, err)

	cfg := c.RESTConfig()
	cfg.BearerToken = tr.Status.Token
	cfg.Impersonate = rest.ImpersonationConfig{}
	robot, err := kubernetes.NewForConfig(cfg)
	require.NoError(t, err)

	// The authorizer learns of new bindings through its informers.
	require.Eventually(t, func() bool {
		_, err := robot.CoreV1().Pods(home).List(ctx, metav1.ListOptions{})
		return err == nil
	}, 10*time.Second, 50*time.Millisecond, "allowed in its own namespace")
	_, err = robot.CoreV1().Pods(other).List(ctx, metav1.ListOptions{})
	require.True(t, apierrors.IsForbidden(err), "listing pods elsewhere: %v", err)
	_, err = robot.CoreV1().Secrets(home).List(ctx, metav1.ListOptions{})
	require.True(t, apierrors.IsForbidden(err), "listing what the Role does not grant: %v", err)
}
