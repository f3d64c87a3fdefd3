package version_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/lifecycle"
	"github.com/syncgate/syncgate/status/outbox"
	"github.com/syncgate/syncgate/status/version"
)

// maxStored is the size a Version must stay under as the API server stores
// it: a third of etcd's 1.5 MiB object limit, so a namespace can grow
// without a write ever being refused.
const maxStored = 512 << 10

// plainStatus has VersionStatus's fields without its JSON methods: its
// encoding is the stored form before the compact one, everything in full.
type plainStatus version.VersionStatus

// TestAVersionOfABigNamespaceStaysSmall writes the status of a big namespace
// whose every sink has been down for a day through the Store, reads it back
// unchanged, and measures the object as the API server stores it.
func TestAVersionOfABigNamespaceStaysSmall(t *testing.T) {
	for _, tc := range []struct{ objects, deployments int }{{10_000, 1_000}, {5_000, 500}} {
		t.Run(fmt.Sprintf("%d objects, %d Deployments", tc.objects, tc.deployments), func(t *testing.T) {
			ctx := context.Background()
			dyn, store, ns := prodVersion(t)
			want := bigStatus(ns, tc.objects, tc.deployments)
			require.Len(t, want.History, version.MaxHistory)
			require.Len(t, want.Owed, 3*version.MaxHistory, "every commit's final report owed to every sink")

			_, err := store.UpdateStatus(ctx, ns, func(st *version.VersionStatus) error {
				*st = *want.DeepCopy()
				return nil
			})
			require.NoError(t, err)
			got, err := store.Get(ctx, ns)
			require.NoError(t, err)
			require.True(t, equality.Semantic.DeepEqual(*want, got.Status), "status round trip")

			u, err := dyn.Resource(version.Resource).Namespace(ns).Get(ctx, version.Name, metav1.GetOptions{})
			require.NoError(t, err)
			stored, err := json.Marshal(u.Object)
			require.NoError(t, err)
			// The same object with the status encoded in full, as it was stored
			// before the compact form.
			plain, err := runtime.DefaultUnstructuredConverter.ToUnstructured((*plainStatus)(want))
			require.NoError(t, err)
			u.Object["status"] = plain
			before, err := json.Marshal(u.Object)
			require.NoError(t, err)
			t.Logf("stored Version: %d bytes (%.0f KiB); in full it would be %d bytes (%.2f MiB)",
				len(stored), float64(len(stored))/1024, len(before), float64(len(before))/(1<<20))
			require.Less(t, len(stored), maxStored)
			require.Greater(t, len(before), maxStored, "the status in full would not fit")
		})
	}
}

// bigStatus is the status of a namespace with objects applied objects, a
// tenth of them in each of ten kinds, after fifty commits that each went
// through applying, rolling out with progress, and deployed or failed,
// every one of them still owed to three sinks that have been failing since.
func bigStatus(ns string, objects, deployments int) *version.VersionStatus {
	st := &version.VersionStatus{}
	kinds := []struct{ group, version, kind string }{
		{"apps", "v1", "Deployment"}, {"", "v1", "Service"}, {"", "v1", "ConfigMap"}, {"", "v1", "Secret"},
		{"", "v1", "ServiceAccount"}, {"autoscaling", "v2", "HorizontalPodAutoscaler"}, {"policy", "v1", "PodDisruptionBudget"},
		{"networking.k8s.io", "v1", "NetworkPolicy"}, {"rbac.authorization.k8s.io", "v1", "Role"}, {"rbac.authorization.k8s.io", "v1", "RoleBinding"},
	}
	teams := []string{"payments", "checkout", "search", "catalog", "identity", "billing", "shipping", "ledger", "notify", "pricing"}
	parts := []string{"api", "worker", "gateway", "scheduler", "indexer", "consumer", "frontend", "reporter", "sync", "cache"}
	var names []string
	for app := range deployments {
		names = append(names, fmt.Sprintf("%s-%s-%d", teams[app%len(teams)], parts[app/len(teams)%len(parts)], app/100))
	}
	for i := range objects {
		k := kinds[i/deployments%len(kinds)]
		name := names[i%deployments]
		sum := sha256.Sum256([]byte(k.kind + "/" + name))
		st.Inventory = append(st.Inventory, version.InventoryEntry{Group: k.group, Version: k.version, Kind: k.kind,
			Namespace: ns, Name: name, Hash: hex.EncodeToString(sum[:16])})
	}

	sinks := []string{"s3", "github", "gitlab"}
	record := func(t lifecycle.Transition) {
		for _, u := range t.Apply(st, "prod") {
			outbox.Record(st, u, sinks)
		}
	}
	at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	for i := range version.MaxHistory {
		sum := sha256.Sum256([]byte{byte(i)})
		sha := hex.EncodeToString(sum[:20])
		lifecycle.Begin(st, sha, nil, at, "c")
		record(lifecycle.Transition{SHA: sha, State: status.Applying, At: at, Total: objects})
		at = at.Add(20 * time.Second)
		deployed := append([]string(nil), names...)
		record(lifecycle.Transition{SHA: sha, State: status.RollingOut, At: at, Total: objects, Deployments: deployed})
		for ready := objects / 4; ready < objects; ready += objects / 4 {
			record(lifecycle.Transition{SHA: sha, State: status.RollingOut, At: at, Ready: ready, Total: objects, Deployments: deployed})
		}
		at = at.Add(4 * time.Minute)
		final := lifecycle.Transition{SHA: sha, State: status.Deployed, At: at, Ready: objects, Total: objects, Deployments: deployed}
		if i%5 == 4 {
			final.State, final.Ready = status.Failed, objects-1
			final.Reason = fmt.Sprintf("Deployment %s/%s: ProgressDeadlineExceeded: ReplicaSet %q has timed out progressing; "+
				"container app: CrashLoopBackOff: back-off 5m0s restarting failed container app in pod %s-7d9c5b6f4-x2x9q: "+
				"Error: failed to load configuration from /etc/app/config.yaml: yaml: line 42: mapping values are not allowed in this context",
				ns, names[i], names[i]+"-7d9c5b6f4", names[i])
		}
		record(final)
		at = at.Add(24*time.Hour/time.Duration(version.MaxHistory) - 4*time.Minute - 20*time.Second)
	}
	// Each sink's oldest report was tried all day; the others wait behind it.
	failing := map[string]string{
		"s3":     "operation error S3: PutObject, https response error StatusCode: 503, RequestID: 0123456789ABCDEF, HostID: " + strings.Repeat("aGVsbG8gd29ybGQ", 6) + ", api error SlowDown: Please reduce your request rate.",
		"github": `Post "https://api.github.com/repos/acme/config/statuses/0123456789abcdef": dial tcp 140.82.112.5:443: connect: connection timed out`,
		"gitlab": "GitLab answered 502 Bad Gateway: " + strings.Repeat("<html><body><h1>502 Bad Gateway</h1></body></html>", 18),
	}
	for _, sink := range sinks {
		for i := range st.Owed {
			if st.Owed[i].Sink == sink {
				st.Owed[i].Attempts, st.Owed[i].LastError = 300, failing[sink]
				break
			}
		}
	}
	st.SetCondition(metav1.Condition{Type: version.ConditionReporting, Status: metav1.ConditionTrue, Reason: "Delivered", Message: "every sink accepts reports"})
	// Times as the API server keeps them, so the round trip is exact.
	for i := range st.Conditions {
		st.Conditions[i].LastTransitionTime = *version.Stamp(at)
	}
	return st
}
