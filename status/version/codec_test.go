package version_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
)

// sample is a status with every case the stored form treats apart.
func sample() version.VersionStatus {
	at := metav1.NewTime(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC))
	fin := metav1.NewTime(at.Add(42 * time.Second))
	web := []string{"web", "worker", "api"}
	return version.VersionStatus{
		Head: sha(5), Applied: sha(5), AppliedShort: sha(5)[:7], AppliedAt: &at, Deployed: sha(4), DeployedShort: sha(4)[:7], DeployedAt: &fin,
		Conditions: []metav1.Condition{{Type: version.ConditionReady, Status: metav1.ConditionFalse, Reason: "Progressing", Message: "rolling out", LastTransitionTime: at}},
		History: []version.Commit{
			{SHA: sha(5), State: status.RollingOut, FetchedAt: &at, AppliedAt: &at, Ready: 2, Total: 7, Deployments: web},
			{SHA: sha(4), State: status.Deployed, FetchedAt: &at, AppliedAt: &at, FinishedAt: &fin, Ready: 7, Total: 7, Deployments: web, SinkRefs: map[string]string{"origin": "42"}},
			{SHA: sha(3), State: status.Superseded, Reason: "deployed by " + sha(4)[:7], CarriedBy: sha(4), Outcome: status.Deployed, FinishedAt: &fin, Deployments: web},
			{SHA: sha(2), State: status.Failed, Reason: "Deployment web: ProgressDeadlineExceeded", AppliedAt: &at, FinishedAt: &fin, Ready: 1, Total: 3, Deployments: []string{"web", "old"}},
			{SHA: sha(1), State: status.Fetched, FetchedAt: &at, Deployments: []string{"api", "web", "old", "worker"}},
			{SHA: sha(0), State: status.Deployed},
		},
		Inventory: []version.InventoryEntry{
			{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "web", Name: "web", Hash: "0123456789abcdef0123456789abcdef"},
			{Version: "v1", Kind: "ConfigMap", Namespace: "web", Name: "settings"},
			{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole", Name: "reader", Hash: "h1", Orphan: true},
		},
		Owed: []version.OwedReport{
			// The history entry as it stands.
			{Sink: "s3", Cluster: "prod", SHA: sha(4), State: status.Deployed, BegunAt: &at, AppliedAt: &at, FinishedAt: &fin, Ready: 7, Total: 7, Deployments: web, Attempts: 3, LastError: "503 SlowDown"},
			{Sink: "github", Cluster: "prod", SHA: sha(3), State: status.Superseded, Reason: "deployed by " + sha(4)[:7], CarriedBy: sha(4), Outcome: status.Deployed, FinishedAt: &fin, Deployments: web, Permanent: true, LastError: "401"},
			// Progress since the report was recorded.
			{Sink: "s3", Cluster: "prod", SHA: sha(5), State: status.RollingOut, BegunAt: &at, AppliedAt: &at, Total: 7, Deployments: web},
			// A final report owed while the commit is tried again.
			{Sink: "s3", Cluster: "prod", SHA: sha(1), State: status.Failed, Reason: "apply: boom", AppliedAt: &at, FinishedAt: &fin, Deployments: []string{"gone"}},
			// No history entry.
			{Sink: "gitlab", SHA: sha(9), State: status.Applying},
			// The history entry as it stands, overtaken by a newer success.
			{Sink: "origin", Cluster: "prod", SHA: sha(4), State: status.Deployed, BegunAt: &at, AppliedAt: &at, FinishedAt: &fin, Ready: 7, Total: 7, Deployments: web,
				OvertakenBy: sha(6), OvertakerOrigins: []string{"acme/web@" + sha(7)}, Ref: "42", Permanent: true},
		},
	}
}

func TestStoredFormRoundTrips(t *testing.T) {
	full := sample()
	for name, st := range map[string]version.VersionStatus{
		"empty": {},
		"full":  full,
		"no owed": func() version.VersionStatus {
			st := *full.DeepCopy()
			st.Owed = nil
			return st
		}(),
	} {
		t.Run(name, func(t *testing.T) {
			b, err := json.Marshal(st)
			require.NoError(t, err)
			var got version.VersionStatus
			require.NoError(t, json.Unmarshal(b, &got))
			require.True(t, equality.Semantic.DeepEqual(st, got), "json round trip:\nwant %+v\n got %+v", st, got)

			// As the Store converts it, through the unstructured form.
			u, err := version.ToUnstructured(&version.Version{Status: st})
			require.NoError(t, err)
			v, err := version.FromUnstructured(u)
			require.NoError(t, err)
			require.True(t, equality.Semantic.DeepEqual(st, v.Status), "unstructured round trip:\nwant %+v\n got %+v", st, v.Status)
		})
	}
}

func TestStoredFormIsCompact(t *testing.T) {
	st := sample()
	before := st.DeepCopy()
	u, err := version.ToUnstructured(&version.Version{Status: st})
	require.NoError(t, err)
	require.True(t, equality.Semantic.DeepEqual(*before, st), "encoding leaves the status alone")
	stored := u.Object["status"].(map[string]any)

	require.NotContains(t, stored, "inventory")
	require.NotEmpty(t, stored["packedInventory"])
	require.Equal(t, []any{"web", "worker", "api", "old", "gone"}, stored["deploymentNames"], "each name once, in order of first use")

	history := stored["history"].([]any)
	var refs []any
	for _, h := range history {
		e := h.(map[string]any)
		require.NotContains(t, e, "deployments")
		refs = append(refs, e["deploymentRefs"])
	}
	require.Equal(t, []any{"0-2", "0-2", "0-2", "0,3", "2,0,3,1", nil}, refs)

	owed := stored["owed"].([]any)
	require.Equal(t, map[string]any{"sink": "s3", "cluster": "prod", "sha": sha(4), "state": "deployed", "asHistory": true,
		"attempts": int64(3), "lastError": "503 SlowDown"}, owed[0], "the history entry is not stored again")
	require.Equal(t, true, owed[1].(map[string]any)["asHistory"])
	for i, want := range []string{"0-2", "4"} {
		o := owed[2+i].(map[string]any)
		require.NotContains(t, o, "asHistory", "owed %d differs from its history entry", 2+i)
		require.NotContains(t, o, "deployments")
		require.Equal(t, want, o["deploymentRefs"])
	}
	require.Equal(t, map[string]any{"sink": "gitlab", "sha": sha(9), "state": "applying"}, owed[4])
	require.Equal(t, map[string]any{"sink": "origin", "cluster": "prod", "sha": sha(4), "state": "deployed", "asHistory": true,
		"overtakenBy": sha(6), "overtakerOrigins": []any{"acme/web@" + sha(7)}, "ref": "42", "permanent": true}, owed[5], "what the history entry does not say is kept")
}

// TestFullFormIsRead decodes a status as syncgate wrote it before the
// compact form: it reads the same, and is written compact.
func TestFullFormIsRead(t *testing.T) {
	want := sample()
	old, err := json.Marshal(plainStatus(want))
	require.NoError(t, err)
	require.Contains(t, string(old), `"inventory":[`)
	require.NotContains(t, string(old), "deploymentRefs")

	var got version.VersionStatus
	require.NoError(t, json.Unmarshal(old, &got))
	require.True(t, equality.Semantic.DeepEqual(want, got), "full form read:\nwant %+v\n got %+v", want, got)
	b, err := json.Marshal(got)
	require.NoError(t, err)
	require.NotContains(t, string(b), `"inventory"`)
	require.Less(t, len(b), len(old))
}

func TestBadStoredFormsAreRefused(t *testing.T) {
	entry := `"history":[{"sha":"a","state":"deployed","deploymentRefs":%q}],"deploymentNames":["web","api"]`
	for _, tc := range []struct {
		name, status, err string
	}{
		{"run backwards", strings.Replace(entry, "%q", `"1-0"`, 1), `bad run "1-0"`},
		{"past the names", strings.Replace(entry, "%q", `"0-2"`, 1), `bad run "0-2" for 2 deploymentNames`},
		{"not a number", strings.Replace(entry, "%q", `"0,x"`, 1), `bad run "x"`},
		{"no names", `"history":[{"sha":"a","state":"deployed","deploymentRefs":"0"}]`, `bad run "0" for 0 deploymentNames`},
		{"owed as a missing entry", `"owed":[{"sink":"s3","sha":"a","state":"deployed","asHistory":true}]`, "no such history entry"},
		{"owed as an entry in another state", `"history":[{"sha":"a","state":"failed"}],"owed":[{"sink":"s3","sha":"a","state":"deployed","asHistory":true}]`, "no such history entry"},
		{"inventory not gzipped", `"packedInventory":"dGhpcyBpcyBub3QgZ3ppcCBkYXRh"`, "status: packedInventory: gzip: invalid header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := &unstructured.Unstructured{}
			require.NoError(t, json.Unmarshal([]byte(`{"metadata":{"namespace":"web","name":"syncgate"},"status":{`+tc.status+`}}`), &u.Object))
			_, err := version.FromUnstructured(u)
			require.ErrorContains(t, err, "decode Version web/syncgate")
			require.ErrorContains(t, err, tc.err)
		})
	}
}
