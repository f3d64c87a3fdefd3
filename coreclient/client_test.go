package coreclient_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/record"

	"github.com/syncgate/syncgate/coreclient"
	"github.com/syncgate/syncgate/testing/cluster"
)

func TestMain(m *testing.M) { os.Exit(cluster.Main(m, cluster.Options{Nodes: 1})) }

func TestConfigMapsWrittenWithOptimisticConcurrency(t *testing.T) {
	c := cluster.Shared(t)
	ns := cluster.Namespace(t, c)
	client, err := coreclient.New(c.RESTConfig())
	require.NoError(t, err)
	ctx := context.Background()
	cms := client.ConfigMaps(ns)

	_, err = cms.Get(ctx, "ledger", metav1.GetOptions{})
	require.True(t, apierrors.IsNotFound(err), "a missing ConfigMap reads as NotFound: %v", err)
	made, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "ledger"}, Data: map[string]string{"a": "1"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	require.NotEmpty(t, made.ResourceVersion)

	made.Data["a"] = "2"
	updated, err := cms.Update(ctx, made, metav1.UpdateOptions{})
	require.NoError(t, err)
	made.Data["a"] = "3" // still at the first resourceVersion
	_, err = cms.Update(ctx, made, metav1.UpdateOptions{})
	require.True(t, apierrors.IsConflict(err), "a stale write is a conflict: %v", err)

	got, err := cms.Get(ctx, "ledger", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, updated.ResourceVersion, got.ResourceVersion)
	require.Equal(t, "2", got.Data["a"])
}

func TestSecretsRead(t *testing.T) {
	c := cluster.Shared(t)
	ns := cluster.Namespace(t, c)
	client, err := coreclient.New(c.RESTConfig())
	require.NoError(t, err)
	ctx := context.Background()
	_, err = client.Secrets(ns).Get(ctx, "keys", metav1.GetOptions{})
	require.True(t, apierrors.IsNotFound(err), "a missing Secret reads as NotFound: %v", err)

	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "keys", Namespace: ns}, Data: map[string][]byte{"age.agekey": []byte("AGE-SECRET-KEY-1")}}
	_, err = admin(t, c).CoreV1().Secrets(ns).Create(ctx, sec, metav1.CreateOptions{})
	require.NoError(t, err)
	got, err := client.Secrets(ns).Get(ctx, "keys", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, []byte("AGE-SECRET-KEY-1"), got.Data["age.agekey"])
}

// An event recorder over the sink creates an Event, then counts the same
// one again with a patch, as the agent records a namespace's Events.
func TestEventsRecordedAndCounted(t *testing.T) {
	c := cluster.Shared(t)
	ns := cluster.Namespace(t, c)
	client, err := coreclient.New(c.RESTConfig())
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)

	b := record.NewBroadcaster(record.WithContext(ctx))
	b.StartRecordingToSink(client.EventSink(ctx))
	t.Cleanup(b.Shutdown)
	rec := b.NewRecorder(client.Scheme(), corev1.EventSource{Component: "syncgate"})
	ref := &corev1.ObjectReference{APIVersion: "syncgate.dev/v1alpha1", Kind: "Version", Namespace: ns, Name: "version"}

	rec.Eventf(ref, corev1.EventTypeNormal, "Deployed", "deployed %s", "abc1234")
	ev := waitEvent(t, c, ns, func(e corev1.Event) bool { return e.Count == 1 })
	require.Equal(t, "Deployed", ev.Reason)
	require.Equal(t, "Version", ev.InvolvedObject.Kind)

	rec.Eventf(ref, corev1.EventTypeNormal, "Deployed", "deployed %s", "abc1234")
	ev = waitEvent(t, c, ns, func(e corev1.Event) bool { return e.Count == 2 })

	ev.Message = "deployed abc1234 (updated)"
	updated, err := client.EventSink(ctx).Update(&ev)
	require.NoError(t, err)
	require.Equal(t, "deployed abc1234 (updated)", updated.Message)
}

func waitEvent(t *testing.T, c *cluster.Cluster, ns string, match func(corev1.Event) bool) corev1.Event {
	t.Helper()
	kube := admin(t, c)
	var found corev1.Event
	require.Eventually(t, func() bool {
		list, err := kube.CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			return false
		}
		for _, e := range list.Items {
			if match(e) {
				found = e
				return true
			}
		}
		return false
	}, 30*time.Second, 50*time.Millisecond)
	return found
}

// admin is client-go's clientset, as the cluster's admin, to check what
// the Client wrote by another path.
func admin(t *testing.T, c *cluster.Cluster) kubernetes.Interface {
	t.Helper()
	kube, err := kubernetes.NewForConfig(c.RESTConfig())
	require.NoError(t, err)
	return kube
}
