package readiness

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/cache"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"

	"github.com/syncgate/syncgate/sync/apply"
)

// ErrTimeout ends a wait that outlived the health timeout.
var ErrTimeout = errors.New("health timeout")

// FailedError says why a rollout cannot succeed.
type FailedError struct {
	Object apply.ObjectRef
	Reason string
}

func (e *FailedError) Error() string {
	return fmt.Sprintf("%s %s: %s", e.Object.Kind, e.Object.Name, e.Reason)
}

// Progress is how far a rollout got.
type Progress struct {
	Ready, Total int
	// Pending names objects not yet Current, with kstatus's message.
	Pending []string
}

// Options configure a Checker.
type Options struct {
	// Timeout bounds one Wait (default 5m).
	Timeout time.Duration
	Logger  *slog.Logger
}

// Checker waits on objects of one namespace at a time.
type Checker struct {
	opts   Options
	dyn    dynamic.Interface
	mapper *restmapper.DeferredDiscoveryRESTMapper
}

// New builds the clients.
func New(cfg *rest.Config, opts Options) (*Checker, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("readiness: %w", err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("readiness: %w", err)
	}
	return &Checker{opts: opts, dyn: dyn, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))}, nil
}

var (
	podsGVR = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	rsGVR   = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "replicasets"}
)

// Wait returns nil once every object is Current, a *FailedError as soon as
// one cannot become so, or ErrTimeout. progress is called on every change.
func (c *Checker) Wait(ctx context.Context, refs []apply.ObjectRef, progress func(Progress)) error {
	if len(refs) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()

	namespaces := map[string]bool{}
	gvrs := map[schema.GroupVersionKind]schema.GroupVersionResource{}
	for _, r := range refs {
		namespaces[r.Namespace] = true
		gvk := r.GroupVersionKind()
		if _, ok := gvrs[gvk]; ok {
			continue
		}
		m, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if meta.IsNoMatchError(err) {
			c.mapper.Reset()
			m, err = c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		}
		if err != nil {
			return fmt.Errorf("readiness: %s: %w", r, err)
		}
		gvrs[gvk] = m.Resource
	}
	if len(namespaces) != 1 {
		return c.waitEach(ctx, refs, progress)
	}
	var ns string
	for n := range namespaces {
		ns = n
	}

	changed := make(chan struct{}, 1)
	poke := func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { poke() },
		UpdateFunc: func(any, any) { poke() },
		DeleteFunc: func(any) { poke() },
	}
	factory := dynamicinformer.NewFilteredDynamicSharedInformerFactory(c.dyn, 0, ns, nil)
	listers := map[schema.GroupVersionKind]cache.GenericLister{}
	for gvk, gvr := range gvrs {
		inf := factory.ForResource(gvr)
		if _, err := inf.Informer().AddEventHandler(handler); err != nil {
			return err
		}
		listers[gvk] = inf.Lister()
	}
	watchPods := false
	for _, r := range refs {
		if isWorkload(r) {
			watchPods = true
		}
	}
	var pods, replicaSets cache.GenericLister
	if watchPods {
		for _, gvr := range []schema.GroupVersionResource{podsGVR, rsGVR} {
			inf := factory.ForResource(gvr)
			if _, err := inf.Informer().AddEventHandler(handler); err != nil {
				return err
			}
		}
		pods, replicaSets = factory.ForResource(podsGVR).Lister(), factory.ForResource(rsGVR).Lister()
	}
	stop := make(chan struct{})
	factory.Start(stop)
	defer func() {
		close(stop)
		factory.Shutdown()
	}()
	for gvr, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return c.timeoutErr(ctx, fmt.Errorf("watch %s did not sync", gvr.Resource), nil)
		}
	}

	var last Progress
	for {
		st := &snapshot{listers: listers, pods: pods, replicaSets: replicaSets}
		p, err := st.evaluate(refs)
		if err != nil {
			return err
		}
		if progress != nil && (p.Ready != last.Ready || p.Total != last.Total || strings.Join(p.Pending, ",") != strings.Join(last.Pending, ",")) {
			progress(p)
		}
		last = p
		if p.Ready == p.Total {
			return nil
		}
		select {
		case <-ctx.Done():
			return c.timeoutErr(ctx, ctx.Err(), last.Pending)
		case <-changed:
		}
	}
}

// waitEach handles the rare multi-namespace set one namespace at a time.
func (c *Checker) waitEach(ctx context.Context, refs []apply.ObjectRef, progress func(Progress)) error {
	by := map[string][]apply.ObjectRef{}
	for _, r := range refs {
		by[r.Namespace] = append(by[r.Namespace], r)
	}
	keys := make([]string, 0, len(by))
	for k := range by {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	done := 0
	for _, k := range keys {
		err := c.Wait(ctx, by[k], func(p Progress) {
			if progress != nil {
				progress(Progress{Ready: done + p.Ready, Total: len(refs), Pending: p.Pending})
			}
		})
		if err != nil {
			return err
		}
		done += len(by[k])
	}
	return nil
}

func (c *Checker) timeoutErr(ctx context.Context, cause error, pending []string) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		if len(pending) > 5 {
			pending = append(pending[:5], fmt.Sprintf("and %d more", len(pending)-5))
		}
		return fmt.Errorf("%w after %s, not ready: %s", ErrTimeout, c.opts.Timeout, strings.Join(pending, "; "))
	}
	return cause
}

func isWorkload(r apply.ObjectRef) bool {
	switch {
	case r.Group == "apps" && (r.Kind == "Deployment" || r.Kind == "StatefulSet" || r.Kind == "DaemonSet"):
		return true
	case r.Group == "batch" && r.Kind == "Job":
		return true
	}
	return false
}

// snapshot evaluates objects from the informer caches.
type snapshot struct {
	listers           map[schema.GroupVersionKind]cache.GenericLister
	pods, replicaSets cache.GenericLister
}

func (s *snapshot) evaluate(refs []apply.ObjectRef) (Progress, error) {
	p := Progress{Total: len(refs)}
	for _, r := range refs {
		obj, err := s.listers[r.GroupVersionKind()].ByNamespace(r.Namespace).Get(r.Name)
		if err != nil {
			p.Pending = append(p.Pending, fmt.Sprintf("%s %s: not found yet", r.Kind, r.Name))
			continue
		}
		u, ok := obj.(*unstructured.Unstructured)
		if !ok {
			continue
		}
		res, err := kstatus.Compute(u)
		if err != nil {
			return p, &FailedError{Object: r, Reason: err.Error()}
		}
		if reason := deadlineExceeded(u); reason != "" {
			return p, &FailedError{Object: r, Reason: reason}
		}
		if res.Status == kstatus.FailedStatus {
			return p, &FailedError{Object: r, Reason: res.Message}
		}
		if isWorkload(r) && s.pods != nil && generationObserved(u) {
			if reason := s.podTrouble(u); reason != "" {
				return p, &FailedError{Object: r, Reason: reason}
			}
		}
		if res.Status == kstatus.CurrentStatus {
			p.Ready++
			continue
		}
		p.Pending = append(p.Pending, fmt.Sprintf("%s %s: %s", r.Kind, r.Name, res.Message))
	}
	return p, nil
}

// generationObserved: the controller has seen the applied spec, so the
// revision and pods it points at are the new ones.
func generationObserved(u *unstructured.Unstructured) bool {
	og, found, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
	return found && og >= u.GetGeneration()
}

func deadlineExceeded(u *unstructured.Unstructured) string {
	if u.GetKind() != "Deployment" {
		return ""
	}
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Progressing" && m["status"] == "False" && m["reason"] == "ProgressDeadlineExceeded" {
			return fmt.Sprintf("ProgressDeadlineExceeded: %v", m["message"])
		}
	}
	return ""
}

// failingReasons are container states a rollout does not recover from by
// waiting.
var failingReasons = map[string]bool{
	"CrashLoopBackOff": true, "ImagePullBackOff": true, "ErrImagePull": true, "InvalidImageName": true,
	"CreateContainerConfigError": true, "CreateContainerError": true, "RunContainerError": true,
}

// podTrouble looks at the pods of the workload's current revision only, so an
// old crashing pod does not fail a commit that fixes it.
func (s *snapshot) podTrouble(u *unstructured.Unstructured) string {
	owners := map[string]bool{string(u.GetUID()): true}
	if u.GetKind() == "Deployment" {
		owners = s.currentReplicaSets(u)
	}
	objs, err := s.pods.ByNamespace(u.GetNamespace()).List(everything)
	if err != nil {
		return ""
	}
	var reasons []string
	for _, o := range objs {
		pu, ok := o.(*unstructured.Unstructured)
		if !ok || pu.GetDeletionTimestamp() != nil {
			continue
		}
		owned := false
		for _, ref := range pu.GetOwnerReferences() {
			if owners[string(ref.UID)] {
				owned = true
			}
		}
		if !owned {
			continue
		}
		var pod corev1.Pod
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(pu.Object, &pod); err != nil {
			continue
		}
		statuses := append(append([]corev1.ContainerStatus{}, pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...)
		for _, cs := range statuses {
			if w := cs.State.Waiting; w != nil && failingReasons[w.Reason] {
				msg := w.Reason
				if w.Message != "" {
					msg += " (" + w.Message + ")"
				}
				reasons = append(reasons, fmt.Sprintf("pod %s container %s: %s", pod.Name, cs.Name, msg))
			}
		}
	}
	if len(reasons) == 0 {
		return ""
	}
	sort.Strings(reasons)
	if len(reasons) > 1 {
		return fmt.Sprintf("%s (and %d more pods)", reasons[0], len(reasons)-1)
	}
	return reasons[0]
}

// currentReplicaSets are the ReplicaSets of the Deployment's newest revision.
func (s *snapshot) currentReplicaSets(d *unstructured.Unstructured) map[string]bool {
	rev := d.GetAnnotations()["deployment.kubernetes.io/revision"]
	out := map[string]bool{}
	objs, err := s.replicaSets.ByNamespace(d.GetNamespace()).List(everything)
	if err != nil || rev == "" {
		return out
	}
	for _, o := range objs {
		rs, ok := o.(*unstructured.Unstructured)
		if !ok || rs.GetAnnotations()["deployment.kubernetes.io/revision"] != rev {
			continue
		}
		for _, ref := range rs.GetOwnerReferences() {
			if ref.UID == d.GetUID() {
				out[string(rs.GetUID())] = true
			}
		}
	}
	return out
}
