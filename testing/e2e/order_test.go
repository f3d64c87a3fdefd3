package e2e

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/resourceversion"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
)

// created records the resource version each object of a namespace was
// created at, from watches started before syncgate: the order the API
// server stored them in.
type created struct {
	mu  sync.Mutex
	rv  map[string]string // "Kind/name"
	err error             // a watch that could not go on
}

func (c *created) of(t *testing.T, what string) string {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	rv, ok := c.rv[what]
	require.True(t, ok, "%s was created", what)
	return rv
}

// await waits until the watches saw each of names ("Kind/name") created.
func (c *created) await(t *testing.T, names []string) {
	t.Helper()
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		c.mu.Lock()
		defer c.mu.Unlock()
		require.NoError(ct, c.err)
		for _, n := range names {
			_, ok := c.rv[n]
			require.True(ct, ok, "%s seen created", n)
		}
	}, 30*time.Second, 10*time.Millisecond)
}

// before tells whether a was created before b.
func (c *created) before(t *testing.T, a, b string) bool {
	t.Helper()
	n, err := resourceversion.CompareResourceVersion(c.of(t, a), c.of(t, b))
	require.NoError(t, err)
	return n < 0
}

// watchCreations follows kinds in the namespace from now on. The API
// server ends a watch when it likes, and at once when its reader falls
// behind a burst (the 300 ConfigMaps of a commit, on a loaded machine):
// each watch is started again from the last resource version it gave, so
// no creation goes unseen.
func watchCreations(t *testing.T, e *env, kinds map[string]schema.GroupVersionResource) *created {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c := &created{rv: map[string]string{}}
	for kind, gvr := range kinds {
		res := e.dyn.Resource(gvr).Namespace(e.ns)
		list, err := res.List(ctx, metav1.ListOptions{})
		require.NoError(t, err)
		w, err := watchtools.NewRetryWatcherWithContext(ctx, list.GetResourceVersion(), &cache.ListWatch{
			WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) { return res.Watch(ctx, o) },
		})
		require.NoError(t, err)
		t.Cleanup(w.Stop)
		go func() {
			for ev := range w.ResultChan() {
				c.mu.Lock()
				if ev.Type == watch.Error && c.err == nil {
					c.err = fmt.Errorf("watch of %s: %w", kind, apierrors.FromObject(ev.Object))
				}
				if u, ok := ev.Object.(*unstructured.Unstructured); ok && ev.Type == watch.Added {
					if _, seen := c.rv[kind+"/"+u.GetName()]; !seen {
						c.rv[kind+"/"+u.GetName()] = u.GetResourceVersion()
					}
				}
				c.mu.Unlock()
			}
		}()
	}
	return c
}

// A workload is written as soon as what its pod template uses is, not
// after the rest of the commit: one that uses a ConfigMap, a Secret and
// (service links on) the namespace's Service follows each of them; one
// that uses nothing of the commit (service links off, an optional
// ConfigMap the commit does not have) goes before the ConfigMaps no one
// uses are all written, and the commit still deploys.
func TestWorkloadsAreWrittenOnceWhatTheyUseIs(t *testing.T) {
	e := newEnv(t)
	ns := e.ns
	files := map[string]string{
		ns + "/settings.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {mode: fast}\n",
		ns + "/creds.yaml":    "apiVersion: v1\nkind: Secret\nmetadata: {name: creds}\nstringData: {token: t}\n",
		ns + "/svc.yaml":      "apiVersion: v1\nkind: Service\nmetadata: {name: api}\nspec: {selector: {app: uses}, ports: [{port: 80}]}\n",
		ns + "/uses.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: uses}
spec:
  replicas: 1
  selector: {matchLabels: {app: uses}}
  template:
    metadata: {labels: {app: uses}}
    spec:
      volumes: [{name: creds, secret: {secretName: creds}}]
      containers:
      - name: app
        image: registry.example.com/uses:1
        envFrom: [{configMapRef: {name: settings}}]
`,
		ns + "/lonely.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: lonely}
spec:
  replicas: 1
  selector: {matchLabels: {app: lonely}}
  template:
    metadata: {labels: {app: lonely}}
    spec:
      enableServiceLinks: false
      containers:
      - name: app
        image: registry.example.com/lonely:1
        envFrom: [{configMapRef: {name: absent, optional: true}}]
`,
	}
	const fillers = 300 // several rounds of the 64 requests in flight
	for i := range fillers {
		files[fmt.Sprintf("%s/filler-%03d.yaml", ns, i)] = fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: filler-%03d}\ndata: {i: \"%d\"}\n", i, i)
	}
	c := watchCreations(t, e, map[string]schema.GroupVersionResource{
		"ConfigMap":  {Version: "v1", Resource: "configmaps"},
		"Secret":     {Version: "v1", Resource: "secrets"},
		"Service":    {Version: "v1", Resource: "services"},
		"Deployment": {Group: "apps", Version: "v1", Resource: "deployments"},
	})
	sha := e.commit("first", files)
	e.start()
	code, body := e.waitFinal(sha)
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, "deployed", body["state"])
	named := []string{"ConfigMap/settings", "Secret/creds", "Service/api", "Deployment/uses", "Deployment/lonely"}
	for i := range fillers {
		named = append(named, fmt.Sprintf("ConfigMap/filler-%03d", i))
	}
	c.await(t, named)

	for _, used := range []string{"ConfigMap/settings", "Secret/creds", "Service/api"} {
		require.True(t, c.before(t, used, "Deployment/uses"), "%s is created before the Deployment that uses it", used)
	}
	last := "ConfigMap/filler-000"
	for i := 1; i < fillers; i++ {
		if f := fmt.Sprintf("ConfigMap/filler-%03d", i); c.before(t, last, f) {
			last = f
		}
	}
	require.True(t, c.before(t, "Deployment/lonely", last), "the Deployment that uses nothing does not wait for the ConfigMaps no one uses")
}
