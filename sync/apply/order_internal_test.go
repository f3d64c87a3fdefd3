package apply

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func desiredOf(t *testing.T, docs ...string) []*desired {
	t.Helper()
	var out []*desired
	for _, doc := range docs {
		u := &unstructured.Unstructured{}
		require.NoError(t, yaml.Unmarshal([]byte(doc), &u.Object))
		if u.GetNamespace() == "" {
			u.SetNamespace("team")
		}
		out = append(out, &desired{ref: refOf(u), obj: u})
	}
	return out
}

func byID(ds []*desired) map[string]*desired {
	out := map[string]*desired{}
	for _, d := range ds {
		out[d.ref.id()] = d
	}
	return out
}

// followed are the ids of the objects of ds that d follows: those uses
// lists, and its namespace's Services when it says so.
func followed(d *desired, ix *writeIndex) []string {
	ids, services := uses(d, ix)
	if services {
		ids = append(ids, ix.services[d.ref.Namespace]...)
	}
	return ids
}

// used names the objects d follows, as "Kind/name".
func used(d *desired, ds []*desired) []string {
	all := byID(ds)
	var out []string
	for _, id := range followed(d, indexOf(ds)) {
		out = append(out, all[id].ref.Kind+"/"+all[id].ref.Name)
	}
	sort.Strings(out)
	return out
}

const web = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      serviceAccountName: runner
      imagePullSecrets: [{name: pull}]
      volumes:
      - {name: a, configMap: {name: files}}
      - {name: b, secret: {secretName: certs}}
      - {name: c, persistentVolumeClaim: {claimName: data}}
      - name: d
        projected: {sources: [{configMap: {name: proj-cm}}, {secret: {name: proj-secret}}]}
      initContainers:
      - {name: init, envFrom: [{configMapRef: {name: init-env}}]}
      containers:
      - name: app
        envFrom: [{secretRef: {name: app-env}}]
        env:
        - {name: X, valueFrom: {configMapKeyRef: {name: x, key: k}}}
        - {name: T, valueFrom: {secretKeyRef: {name: token, key: k}}}
`

func TestAWorkloadWaitsForExactlyWhatItsPodTemplateUses(t *testing.T) {
	named := []string{
		"apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: runner}",
		"apiVersion: v1\nkind: Secret\nmetadata: {name: pull}",
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: files}",
		"apiVersion: v1\nkind: Secret\nmetadata: {name: certs}",
		"apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data}",
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: proj-cm}",
		"apiVersion: v1\nkind: Secret\nmetadata: {name: proj-secret}",
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: init-env}",
		"apiVersion: v1\nkind: Secret\nmetadata: {name: app-env}",
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}",
		"apiVersion: v1\nkind: Secret\nmetadata: {name: token}",
		"apiVersion: v1\nkind: Service\nmetadata: {name: web}",
	}
	unused := []string{
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}",
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: files, namespace: elsewhere}",
		"apiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: elsewhere}",
		"apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: default}",
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: files}",
		"apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: runner}",
	}
	ds := desiredOf(t, append(append([]string{web}, named...), unused...)...)
	require.Equal(t, []string{
		"ConfigMap/files", "ConfigMap/init-env", "ConfigMap/proj-cm", "ConfigMap/x",
		"PersistentVolumeClaim/data", "Secret/app-env", "Secret/certs", "Secret/proj-secret", "Secret/pull", "Secret/token",
		"Service/web", "ServiceAccount/runner",
	}, used(ds[0], ds))
}

func TestServicesAreWaitedForOnlyWithServiceLinksOn(t *testing.T) {
	const svc = "apiVersion: v1\nkind: Service\nmetadata: {name: api}"
	for _, tc := range []struct {
		name, workload string
		want           []string
	}{
		{"links by default", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: w}\nspec: {template: {spec: {containers: [{name: c}]}}}", []string{"Service/api", "ServiceAccount/default"}},
		{"links on", "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: w}\nspec: {jobTemplate: {spec: {template: {spec: {enableServiceLinks: true}}}}}", []string{"Service/api", "ServiceAccount/default"}},
		{"links off", "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: w}\nspec: {template: {spec: {enableServiceLinks: false}}}", []string{"ServiceAccount/default"}},
		{"a pod", "apiVersion: v1\nkind: Pod\nmetadata: {name: w}\nspec: {enableServiceLinks: false, volumes: [{name: v, configMap: {name: cm}}]}", []string{"ConfigMap/cm", "ServiceAccount/default"}},
		{"not a workload", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: w}", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds := desiredOf(t, tc.workload, svc, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}",
				"apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: default}")
			require.Equal(t, tc.want, used(ds[0], ds))
		})
	}
}

func TestAWorkloadNeverWaitsForAWorkload(t *testing.T) {
	// Named like what it uses, in each kind that can be used: still only
	// the objects that are not workloads are waited for, so no cycle.
	ds := desiredOf(t,
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec: {template: {spec: {serviceAccountName: b, volumes: [{name: v, configMap: {name: b}}]}}}",
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: b}\nspec: {template: {spec: {serviceAccountName: a, volumes: [{name: v, configMap: {name: a}}]}}}",
		"apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {serviceAccountName: b}",
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}",
	)
	all, ix := byID(ds), indexOf(ds)
	for _, d := range ds {
		for _, id := range followed(d, ix) {
			require.False(t, isWorkload(all[id].ref), "%s waits for %s", d.ref, id)
		}
	}
	require.Equal(t, []string{"ConfigMap/a"}, used(ds[1], ds))
}

// sent records the order schedule sent objects in.
type sent struct {
	mu   sync.Mutex
	done map[string]bool
}

func (s *sent) has(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.done[id]
}

func (s *sent) add(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.done[id] = true
}

func TestScheduleSendsEachWorkloadAfterWhatItUses(t *testing.T) {
	ds := desiredOf(t, web,
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: files}",
		"apiVersion: v1\nkind: Secret\nmetadata: {name: token}",
		"apiVersion: v1\nkind: Service\nmetadata: {name: web}",
		"apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: runner}",
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: unused}",
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: free}\nspec: {template: {spec: {enableServiceLinks: false, volumes: [{name: v, configMap: {name: missing}}]}}}",
	)
	ix := indexOf(ds)
	s := &sent{done: map[string]bool{}}
	freeSent := make(chan struct{})
	// Bounds a hang, should the free workload wait for the ConfigMap.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := schedule(ctx, ds, 2, func(ctx context.Context, d *desired) error {
		for _, id := range followed(d, ix) {
			if !s.has(id) {
				return fmt.Errorf("%s sent before %s", d.ref, id)
			}
		}
		switch d.ref.Name {
		case "unused":
			// The workload that uses nothing of the write (its ConfigMap
			// is not in it) does not wait for the rest: this send ends
			// only once that workload was sent.
			select {
			case <-freeSent:
			case <-ctx.Done():
				return fmt.Errorf("the workload that uses nothing waited: %w", ctx.Err())
			}
		case "free":
			defer close(freeSent)
		}
		s.add(d.ref.id())
		return nil
	})
	require.NoError(t, err)
	require.Len(t, s.done, len(ds))
}

func TestScheduleStopsAtTheFirstErrorWithoutSendingWhatDependsOnIt(t *testing.T) {
	ds := desiredOf(t, web, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: files}")
	refused := errors.New("refused")
	s := &sent{done: map[string]bool{}}
	err := schedule(context.Background(), ds, 4, func(_ context.Context, d *desired) error {
		if d.ref.Kind == "ConfigMap" {
			return refused
		}
		s.add(d.ref.id())
		return nil
	})
	require.ErrorIs(t, err, refused)
	require.Empty(t, s.done)
}

// A write in flight when another fails is not cut short: the API server
// may have stored it already, and only its answer tells the Result so.
func TestAWriteInFlightIsLetFinishWhenAnotherFails(t *testing.T) {
	ds := desiredOf(t,
		"apiVersion: v1\nkind: Service\nmetadata: {name: admitted}",
		"apiVersion: v1\nkind: Service\nmetadata: {name: refused}")
	exceeded := errors.New("exceeded quota")
	inFlight, failing := make(chan struct{}), make(chan struct{})
	var written context.Context
	err := schedule(context.Background(), ds, 4, func(ctx context.Context, d *desired) error {
		if d.ref.Name == "refused" {
			<-inFlight
			close(failing)
			return exceeded
		}
		close(inFlight)
		<-failing
		written = ctx
		return nil
	})
	require.ErrorIs(t, err, exceeded)
	require.NoError(t, context.Cause(written), "the write in flight was cut short by the other's failure")
}

func TestWhatNoWorkloadUsesIsSentOnceEveryWorkloadIsReleased(t *testing.T) {
	for _, tc := range []struct {
		name  string
		docs  []string
		after map[string][]string // what workloads use that was done before each of these
	}{
		{"after the workloads", []string{
			"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: unused}",
			"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {template: {spec: {volumes: [{name: v, configMap: {name: files}}]}}}",
			"apiVersion: v1\nkind: Secret\nmetadata: {name: unused}",
			"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: files}",
			"apiVersion: v1\nkind: Service\nmetadata: {name: web}",
			"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: free}\nspec: {template: {spec: {enableServiceLinks: false}}}",
		}, map[string][]string{
			"ConfigMap/unused": {"ConfigMap/files", "Service/web"},
			"Secret/unused":    {"ConfigMap/files", "Service/web"},
		}},
		{"at once without workloads", []string{
			"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: unused}",
			"apiVersion: v1\nkind: Secret\nmetadata: {name: unused}",
		}, map[string][]string{"ConfigMap/unused": nil, "Secret/unused": nil}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds := desiredOf(t, tc.docs...)
			var mu sync.Mutex
			var sent []string
			before := map[string][]string{}
			err := schedule(context.Background(), ds, 4, func(_ context.Context, d *desired) error {
				mu.Lock()
				defer mu.Unlock()
				name := d.ref.Kind + "/" + d.ref.Name
				if _, ok := tc.after[name]; ok {
					before[name] = slices.Sorted(slices.Values(slices.DeleteFunc(slices.Clone(sent), func(s string) bool { return strings.HasSuffix(s, "/unused") || strings.HasPrefix(s, "Deployment/") })))
				}
				sent = append(sent, name)
				return nil
			})
			require.NoError(t, err)
			require.Len(t, sent, len(ds))
			for name, want := range tc.after {
				require.Equal(t, want, before[name], name)
			}
		})
	}
}

func TestDrainTakesWhatComesLaterOnceReadyIsClosed(t *testing.T) {
	ds := desiredOf(t,
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}",
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: unused}")
	ready, later := make(chan *desired, 1), queueOf(ds[1:])
	var closed atomic.Bool
	workload := make(chan struct{})
	drained := make(chan error)
	go func() {
		drained <- drain(context.Background(), ready, queueOf(nil), later, func(d *desired) error {
			if d.ref.Kind == "Deployment" {
				close(workload)
			} else if !closed.Load() {
				return fmt.Errorf("%s taken while workloads may still be released", d.ref)
			}
			return nil
		})
	}()
	ready <- ds[0]
	<-workload
	closed.Store(true)
	close(ready)
	require.NoError(t, <-drained)
}

func TestServicesGoServiceLaneAtOnceBesideTheRest(t *testing.T) {
	var docs []string
	for i := range 2*serviceLane + 1 {
		docs = append(docs, fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata: {name: s%d}", i))
	}
	ds := desiredOf(t, append(docs, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: unused}")...)
	var mu sync.Mutex
	inFlight := 0
	full := make(chan struct{}) // serviceLane Services were in flight at once
	var once sync.Once
	// Bounds a hang, should fewer Services be sent at once.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := schedule(ctx, ds, 1, func(ctx context.Context, d *desired) error {
		if !allocates(d.ref) {
			return nil
		}
		mu.Lock()
		inFlight++
		if inFlight == serviceLane {
			once.Do(func() { close(full) })
		}
		mu.Unlock()
		select {
		case <-full:
		case <-ctx.Done():
			return fmt.Errorf("%d Services in flight at most, want %d: %w", inFlight, serviceLane, ctx.Err())
		}
		mu.Lock()
		inFlight--
		mu.Unlock()
		return nil
	})
	require.NoError(t, err)
}

func TestAWorkloadIsReleasedByTheLastServiceOfItsNamespace(t *testing.T) {
	ds := desiredOf(t,
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {template: {spec: {volumes: [{name: v, configMap: {name: files}}]}}}",
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: files}",
		"apiVersion: v1\nkind: Service\nmetadata: {name: a}",
		"apiVersion: v1\nkind: Service\nmetadata: {name: c, namespace: elsewhere}",
		"apiVersion: v1\nkind: Service\nmetadata: {name: b}",
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: unlinked}\nspec: {template: {spec: {enableServiceLinks: false}}}",
	)
	p := plan(ds)
	require.Equal(t, "unlinked", (<-p.ready).ref.Name, "uses nothing of the write")
	for _, d := range ds[1:5] { // the ConfigMap, a Service, the other namespace's, the last Service
		require.Empty(t, p.ready, "released before %s", d.ref)
		p.done(d)
	}
	released, open := <-p.ready
	require.True(t, open)
	require.Equal(t, "web", released.ref.Name)
	_, open = <-p.ready
	require.False(t, open, "closed after the last workload")
}

// BenchmarkPlan plans the first write of the bench's 1,000 objects (250
// each of ConfigMap, Secret, Service and Deployment, one namespace).
func BenchmarkPlan(b *testing.B) {
	var ds []*desired
	for i := range 250 {
		for _, doc := range []string{
			fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%d, namespace: team}", i),
			fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata: {name: secret-%d, namespace: team}", i),
			fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata: {name: svc-%d, namespace: team}", i),
			fmt.Sprintf("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app-%d, namespace: team}\nspec: {template: {spec: {containers: [{name: app}]}}}", i),
		} {
			u := &unstructured.Unstructured{}
			require.NoError(b, yaml.Unmarshal([]byte(doc), &u.Object))
			ds = append(ds, &desired{ref: refOf(u), obj: u})
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		plan(ds)
	}
}

// stopsAfterCheck is a context whose stop fires right after its first
// check: between drain's look at it and its take from the channels.
type stopsAfterCheck struct {
	context.Context
	cancel  context.CancelFunc
	checked atomic.Bool
}

func (c *stopsAfterCheck) Err() error {
	if !c.checked.Swap(true) {
		c.cancel()
		return nil
	}
	return c.Context.Err()
}

func TestDrainBeginsNothingOnceStoppedAfterItsCheck(t *testing.T) {
	ds := desiredOf(t,
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}",
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: files}")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stopped := &stopsAfterCheck{Context: ctx, cancel: cancel}
	ready := queueOf(ds[:1])
	var begun []string
	err := drain(stopped, ready, queueOf(ds[1:]), nil, func(d *desired) error {
		begun = append(begun, d.ref.Name)
		return nil
	})
	require.ErrorIs(t, err, context.Canceled)
	require.Empty(t, begun, "begun after the stop")
}
