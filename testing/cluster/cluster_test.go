package cluster_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
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

func TestDeploymentRollsOutThroughTheRealControllers(t *testing.T) {
	c := cluster.Shared(t)
	ns := cluster.Namespace(t, c)
	kube, err := kubernetes.NewForConfig(c.RESTConfig())
	require.NoError(t, err)
	ctx := context.Background()

	d, err := kube.AppsV1().Deployments(ns).Create(ctx, deployment("web", 3, nil), metav1.CreateOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		got, err := kube.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		return err == nil && got.Status.ObservedGeneration >= d.Generation && got.Status.ReadyReplicas == 3 && got.Status.UpdatedReplicas == 3
	}, 30*time.Second, 50*time.Millisecond)

	pods, err := kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	require.NoError(t, err)
	require.Len(t, pods.Items, 3)
	for _, p := range pods.Items {
		require.NotEmpty(t, p.Spec.NodeName, "scheduled by kube-scheduler")
		require.Equal(t, corev1.PodRunning, p.Status.Phase)
	}
}

func TestPodsFailOnRequest(t *testing.T) {
	c := cluster.Shared(t)
	ns := cluster.Namespace(t, c)
	kube, err := kubernetes.NewForConfig(c.RESTConfig())
	require.NoError(t, err)
	ctx := context.Background()

	cases := map[string]string{
		"crashloop":   "CrashLoopBackOff",
		"imagepull":   "ImagePullBackOff",
		"configerror": "CreateContainerConfigError",
	}
	for mode, reason := range cases {
		_, err := kube.AppsV1().Deployments(ns).Create(ctx, deployment(mode, 1, map[string]string{cluster.AnnotationFail: mode}), metav1.CreateOptions{})
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			pods, err := kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=" + mode})
			if err != nil || len(pods.Items) != 1 {
				return false
			}
			for _, cs := range pods.Items[0].Status.ContainerStatuses {
				if cs.State.Waiting != nil && cs.State.Waiting.Reason == reason && !cs.Ready {
					return true
				}
			}
			return false
		}, 30*time.Second, 50*time.Millisecond, mode)
	}
}

func TestPodBecomesReadyOnlyAfterItsDelay(t *testing.T) {
	c := cluster.Shared(t)
	ns := cluster.Namespace(t, c)
	kube, err := kubernetes.NewForConfig(c.RESTConfig())
	require.NoError(t, err)
	ctx := context.Background()

	_, err = kube.AppsV1().Deployments(ns).Create(ctx, deployment("slow", 1, map[string]string{cluster.AnnotationReadyAfter: "3s"}), metav1.CreateOptions{})
	require.NoError(t, err)
	var runningAt time.Time
	require.Eventually(t, func() bool {
		pods, err := kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=slow"})
		if err != nil || len(pods.Items) != 1 || pods.Items[0].Status.Phase != corev1.PodRunning {
			return false
		}
		require.False(t, podReady(pods.Items[0]), "running but not yet ready")
		runningAt = time.Now()
		return true
	}, 30*time.Second, 20*time.Millisecond)
	require.Eventually(t, func() bool {
		pods, err := kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=slow"})
		return err == nil && len(pods.Items) == 1 && podReady(pods.Items[0])
	}, 30*time.Second, 20*time.Millisecond)
	require.GreaterOrEqual(t, time.Since(runningAt), 2*time.Second, "ready only after the annotated delay")
}

func podReady(p corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
