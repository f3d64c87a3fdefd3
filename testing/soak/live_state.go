package soak

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// liveState is what the cluster runs in one namespace.
type liveState struct {
	exists   bool
	image    string
	crash    bool
	replicas int
	ready    string // why not ready; empty when ready
	cms      map[string]int
}

func (s *soak) live(ctx context.Context, ns string) (liveState, error) {
	var l liveState
	dep, err := s.e.kube.AppsV1().Deployments(ns).Get(ctx, "app", metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return l, err
	default:
		l.exists = true
		if cs := dep.Spec.Template.Spec.Containers; len(cs) > 0 {
			l.image = cs[0].Image
		}
		l.crash = dep.Spec.Template.Annotations["syncgate.dev/test-fail"] == "crashloop"
		want := int32(1)
		if dep.Spec.Replicas != nil {
			want = *dep.Spec.Replicas
		}
		l.replicas = int(want)
		st := dep.Status
		if st.ObservedGeneration < dep.Generation || st.UpdatedReplicas != want || st.ReadyReplicas != want || st.AvailableReplicas != want || st.Replicas != want {
			l.ready = fmt.Sprintf("not ready: generation %d/%d, replicas %d, updated %d, ready %d, available %d of %d",
				st.ObservedGeneration, dep.Generation, st.Replicas, st.UpdatedReplicas, st.ReadyReplicas, st.AvailableReplicas, want)
		}
	}
	cms, err := s.e.kube.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return l, err
	}
	l.cms = map[string]int{}
	for _, cm := range cms.Items {
		if strings.HasPrefix(cm.Name, "cm-") {
			n, _ := strconv.Atoi(cm.Data["value"])
			l.cms[cm.Name] = n
		}
	}
	return l, nil
}

// diff says how the cluster differs from c (empty: it runs c); with ready,
// the Deployment must also have rolled out.
func (l liveState) diff(c nsContent, ready bool) string {
	var d []string
	if !l.exists {
		return "no Deployment app, want " + c.String()
	}
	if l.image != Image(c.Tag) {
		d = append(d, fmt.Sprintf("image %s (want %s)", l.image, Image(c.Tag)))
	}
	if l.crash != (c.Poison == CrashLoop) {
		d = append(d, fmt.Sprintf("crashloop annotation %v (want %v)", l.crash, c.Poison == CrashLoop))
	}
	if l.replicas != c.Replicas {
		d = append(d, fmt.Sprintf("replicas %d (want %d)", l.replicas, c.Replicas))
	}
	if !maps.Equal(l.cms, c.CMs) {
		d = append(d, fmt.Sprintf("ConfigMaps %s (want %s)", cmList(l.cms), cmList(c.CMs)))
	}
	if ready && l.ready != "" {
		d = append(d, "Deployment "+l.ready)
	}
	return strings.Join(d, "; ")
}

// empty says how the cluster differs from nothing applied yet.
func (l liveState) empty() string {
	if l.exists || len(l.cms) > 0 {
		return fmt.Sprintf("Deployment present %v, ConfigMaps %s (want nothing applied)", l.exists, cmList(l.cms))
	}
	return ""
}

func cmList(m map[string]int) string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, fmt.Sprintf("%s=%d", k, m[k]))
	}
	return "[" + strings.Join(out, " ") + "]"
}
