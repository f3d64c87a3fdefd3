package clusterwide

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
)

// After a switch, an object the old watches told of at a resourceVersion
// above the new list's is left to the new watch; when that watch expires
// and the new informer lists again without the object, it is told
// deleted, although the new informer never held it.
func TestRelistTellsWhatItDoesNotHoldDeleted(t *testing.T) {
	api := newScripted(t,
		page{rv: "100", items: []*unstructured.Unstructured{obj("kept", 90)}},
		page{rv: "120", items: []*unstructured.Unstructured{obj("kept", 90)}},
	)
	h := &heard{}
	s := api.switcher(h)
	old := s.record.from(s.record.renew())
	old.OnAdd(obj("kept", 90), true)
	next, err := s.start(t.Context(), []string{metav1.NamespaceAll})
	require.NoError(t, err)
	t.Cleanup(next.stop)
	awaitSynced(t, next)
	old.OnAdd(obj("late", 105), false) // created after the new list
	s.record.sweep(next.n, next.listedAt)
	require.Equal(t, []string{"add kept@90", "add late@105"}, h.all(), "late is left to the new watch")

	api.expire(0) // deleted at 110; the new watch is too old to tell
	require.Eventually(t, func() bool { return len(h.all()) == 3 }, 10*time.Second, 10*time.Millisecond)
	require.Equal(t, "delete late@105", h.all()[2])
}

// The first list of a round read in pages that fails after its first
// page is not the list the round synced on: the resourceVersion the
// switch sweeps at is that of the list read whole.
func TestSweptAtTheListReadWhole(t *testing.T) {
	api := newScripted(t,
		page{rv: "100", items: []*unstructured.Unstructured{obj("a", 90)}, next: "p2"},
		page{err: apierrors.NewInternalError(errors.New("page lost"))},
		page{rv: "120", items: []*unstructured.Unstructured{obj("a", 90)}},
	)
	h := &heard{}
	s := api.switcher(h)
	old := s.record.from(s.record.renew())
	old.OnAdd(obj("gone", 110), true) // deleted at 115
	next, err := s.start(t.Context(), []string{metav1.NamespaceAll})
	require.NoError(t, err)
	t.Cleanup(next.stop)
	awaitSynced(t, next)
	require.Equal(t, uint64(120), next.listedAt(""))
	s.record.sweep(next.n, next.listedAt)
	require.Equal(t, []string{"add gone@110", "add a@90", "delete gone@110"}, h.all())
}

// A round refused after it told of an object, before it synced, leaves
// the round it was to replace running: that round's relist not holding
// the object tells it deleted, although the refused round told a later
// state of it.
func TestRelistOfTheRoundKeptAfterARefusal(t *testing.T) {
	api := newScripted(t,
		page{rv: "100", items: []*unstructured.Unstructured{obj("x", 95)}},
		page{rv: "120"},
	)
	h := &heard{}
	s := api.switcher(h)
	live, err := s.start(t.Context(), []string{"ns"})
	require.NoError(t, err)
	t.Cleanup(live.stop)
	awaitSynced(t, live)
	s.record.sweep(live.n, live.listedAt)
	refused := s.record.from(s.record.renew())
	refused.OnAdd(obj("x", 105), true)
	require.Equal(t, []string{"add x@95", "update x@105"}, h.all())

	api.expire(0) // x deleted at 110
	require.Eventually(t, func() bool { return len(h.all()) == 3 }, 10*time.Second, 10*time.Millisecond)
	require.Contains(t, h.all()[2], "delete x@")
}

// page is one answer to a list: a page of it, or an error.
type page struct {
	rv    string
	items []*unstructured.Unstructured
	next  string
	err   error
}

// scripted is an API server answering lists from a script, one answer a
// call, and watches that stay open until expired.
type scripted struct {
	t       *testing.T
	client  *dynamicfake.FakeDynamicClient
	mu      sync.Mutex
	lists   []page
	watches []*watch.RaceFreeFakeWatcher
	opened  chan struct{}
}

var configMapsResource = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}

func newScripted(t *testing.T, lists ...page) *scripted {
	s := &scripted{t: t, lists: lists, opened: make(chan struct{}, 10)}
	s.client = dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{configMapsResource: "ConfigMapList"})
	s.client.PrependReactor("list", "configmaps", func(clienttesting.Action) (bool, runtime.Object, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if len(s.lists) == 0 {
			return true, nil, apierrors.NewServiceUnavailable("no more lists scripted")
		}
		p := s.lists[0]
		s.lists = s.lists[1:]
		if p.err != nil {
			return true, nil, p.err
		}
		l := &unstructured.UnstructuredList{}
		l.SetAPIVersion("v1")
		l.SetKind("ConfigMapList")
		l.SetResourceVersion(p.rv)
		l.SetContinue(p.next)
		for _, o := range p.items {
			o.SetAPIVersion("v1")
			o.SetKind("ConfigMap")
			l.Items = append(l.Items, *o)
		}
		return true, l, nil
	})
	s.client.PrependWatchReactor("configmaps", func(clienttesting.Action) (bool, watch.Interface, error) {
		w := watch.NewRaceFreeFake()
		s.mu.Lock()
		s.watches = append(s.watches, w)
		s.mu.Unlock()
		s.opened <- struct{}{}
		return true, w, nil
	})
	return s
}

func (s *scripted) switcher(h cache.ResourceEventHandler) *switcher {
	return &switcher{client: s.client, w: Watch{Resource: configMapsResource}, record: newRecord(h), managed: map[string]bool{"ns": true}}
}

// expire ends watch i (in the order opened, waiting for it) with 410
// Gone, as when the resourceVersion it watches from was compacted.
func (s *scripted) expire(i int) {
	s.t.Helper()
	for {
		s.mu.Lock()
		n := len(s.watches)
		s.mu.Unlock()
		if n > i {
			break
		}
		select {
		case <-s.opened:
		case <-time.After(10 * time.Second):
			s.t.Fatalf("watch %d never opened", i)
		}
	}
	s.mu.Lock()
	w := s.watches[i]
	s.mu.Unlock()
	st := apierrors.NewResourceExpired("too old resource version").Status()
	w.Error(&st)
}

func awaitSynced(t *testing.T, r *round) {
	t.Helper()
	select {
	case <-r.synced:
	case <-time.After(10 * time.Second):
		t.Fatal("the round never synced")
	}
}

// heard is a handler writing down what it is told.
type heard struct {
	mu   sync.Mutex
	told []string
}

func (h *heard) OnAdd(o any, _ bool) { h.add("add " + describe(o)) }
func (h *heard) OnUpdate(_, o any)   { h.add("update " + describe(o)) }
func (h *heard) OnDelete(o any)      { h.add("delete " + describe(o)) }
func (h *heard) add(s string)        { h.mu.Lock(); defer h.mu.Unlock(); h.told = append(h.told, s) }
func (h *heard) all() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.told...)
}

// A watch streaming its initial events tells, at the bookmark that ends
// them, the keys of the objects they added; what follows is no list.
func TestInitialEventsTellTheirKeys(t *testing.T) {
	w := watch.NewRaceFreeFake()
	var rv string
	var keys []string
	lists := 0
	p := initialEvents(w, func(at string, held []string) { rv, keys, lists = at, held, lists+1 })
	defer p.Stop()
	end := &unstructured.Unstructured{}
	end.SetResourceVersion("50")
	end.SetAnnotations(map[string]string{metav1.InitialEventsAnnotationKey: "true"})
	w.Add(obj("a", 10))
	w.Add(obj("b", 20))
	w.Action(watch.Bookmark, end)
	w.Add(obj("c", 60))
	for range 4 {
		<-p.ResultChan()
	}
	require.Equal(t, 1, lists)
	require.Equal(t, "50", rv)
	require.Equal(t, []string{"ns/a", "ns/b"}, keys)
}
