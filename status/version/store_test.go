package version_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/outbox"
	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/testing/cluster"
)

func TestMain(m *testing.M) { os.Exit(cluster.Main(m, cluster.Options{Nodes: 1})) }

var (
	crdOnce sync.Once
	crdErr  error
)

// installCRD applies deploy/crds/ as shipped and waits until it serves.
func installCRD(t *testing.T, c *cluster.Cluster) dynamic.Interface {
	t.Helper()
	dyn, err := dynamic.NewForConfig(c.RESTConfig())
	require.NoError(t, err)
	crdOnce.Do(func() { crdErr = applyCRDs(dyn) })
	require.NoError(t, crdErr)
	return dyn
}

// prodVersion is a fresh namespace holding a Version of cluster "prod",
// with a store on it and the client under that store.
func prodVersion(t *testing.T) (dynamic.Interface, *version.Store, string) {
	t.Helper()
	c := cluster.Shared(t)
	dyn := installCRD(t, c)
	store := version.NewStore(dyn)
	ns := cluster.Namespace(t, c)
	_, err := store.Ensure(context.Background(), ns, version.VersionSpec{Cluster: "prod"})
	require.NoError(t, err)
	return dyn, store, ns
}

func applyCRDs(dyn dynamic.Interface) error {
	ctx := context.Background()
	crds := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	files, err := filepath.Glob(filepath.Join("..", "..", "deploy", "crds", "*.yaml"))
	if err != nil {
		return err
	}
	applied := 0
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(b, &u.Object); err != nil {
			return err
		}
		if _, err := dyn.Resource(crds).Apply(ctx, u.GetName(), u, metav1.ApplyOptions{FieldManager: "test", Force: true}); err != nil {
			return err
		}
		applied++
	}
	if applied == 0 {
		return errors.New("no CRD in deploy/crds")
	}
	// The API serves the new resource shortly after the CRD is established.
	err = wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := dyn.Resource(version.Resource).List(ctx, metav1.ListOptions{})
		return err == nil, nil
	})
	if err != nil {
		return fmt.Errorf("versions.syncgate.dev not served after 30s: %w", err)
	}
	return nil
}

func TestStoreRoundTripsAVersionWithStatus(t *testing.T) {
	c := cluster.Shared(t)
	dyn := installCRD(t, c)
	ns := cluster.Namespace(t, c)
	ctx := context.Background()
	store := version.NewStore(dyn)

	v, err := store.Get(ctx, ns)
	require.NoError(t, err)
	require.Nil(t, v, "no Version yet is not an error")
	_, err = store.UpdateStatus(ctx, ns, func(*version.VersionStatus) error { return nil })
	require.ErrorIs(t, err, version.ErrNotFound)

	spec := version.VersionSpec{Cluster: "prod", Repo: "https://github.com/acme/config", Branch: "main"}
	v, err = store.Ensure(ctx, ns, spec)
	require.NoError(t, err)
	require.Equal(t, spec, v.Spec)
	require.Equal(t, version.Name, v.Name)

	at := metav1.NewTime(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC))
	fin := metav1.NewTime(at.Add(42 * time.Second))
	full := "0123456789abcdef0123456789abcdef01234567"
	want := version.VersionStatus{
		Head: full, Applied: full, AppliedShort: full[:7], AppliedAt: &at, Deployed: full, DeployedShort: full[:7], DeployedAt: &fin,
		History: []version.Commit{{SHA: full, State: status.Deployed, AppliedAt: &at, FinishedAt: &fin, Ready: 2, Total: 2, Deployments: []string{"web"}},
			{SHA: strings.Repeat("1", 40), State: status.Superseded, CarriedBy: full, Outcome: status.Deployed}},
		Inventory: []version.InventoryEntry{{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: ns, Name: "web", Hash: "h1"}},
		Owed:      []version.OwedReport{{Sink: "github", Cluster: "prod", SHA: full, State: status.Deployed, FinishedAt: &fin, Attempts: 2, LastError: "502"}},
	}
	v, err = store.UpdateStatus(ctx, ns, func(st *version.VersionStatus) error {
		*st = *want.DeepCopy()
		st.SetCondition(metav1.Condition{Type: version.ConditionReady, Status: metav1.ConditionTrue, Reason: "Deployed", Message: "0123456 deployed"})
		st.SetCondition(metav1.Condition{Type: version.ConditionReporting, Status: metav1.ConditionFalse, Reason: "GithubRefused,S3Refused", Message: "fix it"})
		return nil
	})
	require.NoError(t, err)

	got, err := store.Get(ctx, ns)
	require.NoError(t, err)
	require.Len(t, got.Status.Conditions, 2)
	require.Equal(t, "GithubRefused,S3Refused", got.Status.Condition(version.ConditionReporting).Reason)
	require.Equal(t, metav1.ConditionTrue, got.Status.Condition(version.ConditionReady).Status)
	got.Status.Conditions = nil
	require.True(t, equality.Semantic.DeepEqual(want, got.Status), "status round trip:\nwant %+v\n got %+v", want, got.Status)
	require.Equal(t, got.ResourceVersion, v.ResourceVersion)

	// The spec goes through the main resource, the status only through its
	// subresource: changing one leaves the other alone.
	spec.Branch = "release"
	v, err = store.Ensure(ctx, ns, spec)
	require.NoError(t, err)
	require.Equal(t, "release", v.Spec.Branch)
	require.Equal(t, full, v.Status.Applied)
	_, err = dyn.Resource(version.Resource).Namespace(ns).Patch(ctx, version.Name, types.MergePatchType,
		[]byte(`{"status":{"applied":"ignored"}}`), metav1.PatchOptions{})
	require.NoError(t, err)
	got, err = store.Get(ctx, ns)
	require.NoError(t, err)
	require.Equal(t, full, got.Status.Applied, "status is a subresource")

	// fn's error aborts the write.
	boom := errors.New("boom")
	_, err = store.UpdateStatus(ctx, ns, func(st *version.VersionStatus) error { st.Applied = "x"; return boom })
	require.ErrorIs(t, err, boom)
	got, _ = store.Get(ctx, ns)
	require.Equal(t, full, got.Status.Applied)
}

// TestAVersionWrittenInFullIsReadAndStoredCompact upgrades in place: a
// status an older syncgate wrote in full reads as it was, and the next
// status write stores it compact.
func TestAVersionWrittenInFullIsReadAndStoredCompact(t *testing.T) {
	ctx := context.Background()
	dyn, store, ns := prodVersion(t)
	want := sample()
	versions := dyn.Resource(version.Resource).Namespace(ns)
	u, err := versions.Get(ctx, version.Name, metav1.GetOptions{})
	require.NoError(t, err)
	u.Object["status"], err = runtime.DefaultUnstructuredConverter.ToUnstructured((*plainStatus)(&want))
	require.NoError(t, err)
	_, err = versions.UpdateStatus(ctx, u, metav1.UpdateOptions{})
	require.NoError(t, err)

	got, err := store.Get(ctx, ns)
	require.NoError(t, err)
	require.True(t, equality.Semantic.DeepEqual(want, got.Status), "full form read:\nwant %+v\n got %+v", want, got.Status)

	_, err = store.UpdateStatus(ctx, ns, func(*version.VersionStatus) error { return nil })
	require.NoError(t, err)
	u, err = versions.Get(ctx, version.Name, metav1.GetOptions{})
	require.NoError(t, err)
	stored := u.Object["status"].(map[string]any)
	require.NotContains(t, stored, "inventory")
	require.Contains(t, stored, "packedInventory")
	require.Contains(t, stored, "deploymentNames")
	got, err = store.Get(ctx, ns)
	require.NoError(t, err)
	require.True(t, equality.Semantic.DeepEqual(want, got.Status), "compact form read:\nwant %+v\n got %+v", want, got.Status)
}

func TestConcurrentStatusWritersAllLand(t *testing.T) {
	ctx := context.Background()
	dyn, store, ns := prodVersion(t)

	const writers = 8
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := version.NewStore(dyn).UpdateStatus(ctx, ns, func(st *version.VersionStatus) error {
				st.Record(version.Commit{SHA: sha(i), State: status.Fetched})
				return nil
			})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	got, err := store.Get(ctx, ns)
	require.NoError(t, err)
	require.Len(t, got.Status.History, writers, "conflicts were retried, none lost")
}

func TestKubectlGetVersionsColumns(t *testing.T) {
	c := cluster.Shared(t)
	dyn := installCRD(t, c)
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not installed")
	}
	ns := cluster.Namespace(t, c)
	ctx := context.Background()
	store := version.NewStore(dyn)
	_, err = store.Ensure(ctx, ns, version.VersionSpec{Cluster: "prod"})
	require.NoError(t, err)
	full := "0123456789abcdef0123456789abcdef01234567"
	_, err = store.UpdateStatus(ctx, ns, func(st *version.VersionStatus) error {
		st.Applied, st.AppliedShort = "fedcba9876543210fedcba9876543210fedcba98", "fedcba9"
		st.Deployed, st.DeployedShort = full, full[:7]
		st.SetCondition(metav1.Condition{Type: version.ConditionReady, Status: metav1.ConditionFalse, Reason: "RollingOut", Message: "1/3 ready"})
		return nil
	})
	require.NoError(t, err)

	for _, tc := range []struct {
		args   []string
		header []string
		row    []string
	}{
		{[]string{"get", "versions"}, []string{"NAME", "APPLIED", "DEPLOYED", "READY", "AGE"}, []string{"syncgate", "fedcba9", "0123456", "False"}},
		{[]string{"get", "ver", "-o", "wide"}, []string{"NAME", "APPLIED", "DEPLOYED", "READY", "REASON", "AGE"}, []string{"syncgate", "fedcba9", "0123456", "False", "RollingOut"}},
	} {
		args := append([]string{"--kubeconfig", c.KubeconfigPath(), "-n", ns}, tc.args...)
		out, err := exec.Command(kubectl, args...).CombinedOutput()
		require.NoError(t, err, "%s", out)
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		require.Len(t, lines, 2, "%s", out)
		require.Equal(t, tc.header, strings.Fields(lines[0]))
		row := strings.Fields(lines[1])
		require.Len(t, row, len(tc.header), "%s", out)
		require.Equal(t, tc.row, row[:len(tc.row)])
		require.Regexp(t, `^\d+s$`, row[len(row)-1], "age")
	}
}

// counting delivers reports and counts them.
type counting struct {
	name  string
	mu    sync.Mutex
	calls []status.Update
	fail  error
}

func (c *counting) Name() string { return c.name }
func (c *counting) Report(ctx context.Context, u status.Update) error {
	c.mu.Lock()
	c.calls = append(c.calls, u)
	c.mu.Unlock()
	return c.fail
}
func (c *counting) count() int { c.mu.Lock(); defer c.mu.Unlock(); return len(c.calls) }

func TestOwedReportsSurviveARestartOnTheAPIServer(t *testing.T) {
	ctx := context.Background()
	_, store, ns := prodVersion(t)
	full := "0123456789abcdef0123456789abcdef01234567"
	finished := time.Date(2026, 5, 1, 10, 0, 42, 0, time.UTC)

	// "deployed" is recorded with the reports it owes, in one write; the
	// process dies before any report goes out.
	_, err := store.UpdateStatus(ctx, ns, func(st *version.VersionStatus) error {
		st.Deployed, st.DeployedShort = full, full[:7]
		u := status.Update{Cluster: "prod", Namespace: ns, SHA: full, State: status.Deployed, FinishedAt: finished, Deployments: []string{"web"}}
		st.Record(version.Commit{SHA: full, State: status.Deployed})
		outbox.Record(st, u, []string{"github", "s3"})
		return nil
	})
	require.NoError(t, err)

	// A new process: GitHub works, S3 refuses for good.
	gh := &counting{name: "github"}
	s3 := &counting{name: "s3", fail: status.Permanent(errors.New("NoSuchBucket (check S3_BUCKET: the bucket does not exist)"))}
	d, err := outbox.NewDeliverer(outbox.Options{Store: store, Namespaces: []string{ns}, Reporters: []status.Reporter{gh, s3}})
	require.NoError(t, err)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Run(runCtx) }()
	defer func() { cancel(); require.NoError(t, <-done) }()

	require.Eventually(t, func() bool {
		v, err := store.Get(ctx, ns)
		if err != nil || len(v.Status.Owed) != 1 || !v.Status.Owed[0].Permanent {
			return false
		}
		cond := v.Status.Condition(version.ConditionReporting)
		return cond != nil && cond.Status == metav1.ConditionFalse
	}, 20*time.Second, 20*time.Millisecond)
	v, err := store.Get(ctx, ns)
	require.NoError(t, err)
	require.Equal(t, "s3", v.Status.Owed[0].Sink)
	require.Equal(t, "S3Refused", v.Status.Condition(version.ConditionReporting).Reason)
	require.Contains(t, v.Status.Condition(version.ConditionReporting).Message, "check S3_BUCKET")
	require.Equal(t, 1, gh.count())
	require.Equal(t, status.Deployed, gh.calls[0].State)
	require.Equal(t, "prod", gh.calls[0].Cluster)
	require.Equal(t, finished, gh.calls[0].FinishedAt)
	require.Equal(t, 1, s3.count())
	require.NotNil(t, v.Status.Find(full), "history entry kept while owed")
}

// A writer starting from the Version it last wrote sends no read; when
// someone else wrote meanwhile it reads again and loses nothing.
func TestUpdateStatusFromTheLastWrittenVersion(t *testing.T) {
	ctx := context.Background()
	_, store, ns := prodVersion(t)
	last, err := store.Get(ctx, ns)
	require.NoError(t, err)
	record := func(i int) func(*version.VersionStatus) error {
		return func(st *version.VersionStatus) error {
			st.Record(version.Commit{SHA: sha(i), State: status.Fetched})
			return nil
		}
	}
	first, err := store.UpdateStatusFrom(ctx, last, record(1))
	require.NoError(t, err)
	require.Empty(t, last.Status.History, "the Version started from is left as it was")

	// Another writer: the next write from first conflicts, reads, and keeps both.
	_, err = store.UpdateStatus(ctx, ns, record(2))
	require.NoError(t, err)
	third, err := store.UpdateStatusFrom(ctx, first, record(3))
	require.NoError(t, err)
	require.Len(t, third.Status.History, 3)

	fnErr := errors.New("no")
	_, err = store.UpdateStatusFrom(ctx, third, func(*version.VersionStatus) error { return fnErr })
	require.ErrorIs(t, err, fnErr)
	_, err = store.UpdateStatusFrom(ctx, &version.Version{}, record(4))
	require.Error(t, err)
}

// TestACancelledWriteIsAnError: a write under a cancelled context fails
// with the context's error; it never returns no Version and no error.
func TestACancelledWriteIsAnError(t *testing.T) {
	_, store, ns := prodVersion(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	v, err := store.Ensure(ctx, ns, version.VersionSpec{Cluster: "prod"})
	require.ErrorIs(t, err, context.Canceled)
	require.Nil(t, v)
	v, err = store.UpdateStatus(ctx, ns, func(*version.VersionStatus) error { return nil })
	require.ErrorIs(t, err, context.Canceled)
	require.Nil(t, v)
}
