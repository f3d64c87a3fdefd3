package helmchart

import (
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/syncgate/syncgate/testing/kustomizetest"
)

// TestChartInstallsWhatTheKustomizeBaseInstalls: with default values, as
// release "syncgate" in namespace "syncgate", the chart installs the same
// objects as deploy/base and the same in every field that decides what
// runs and what it may do: the CRD, RBAC rules and bindings, settings,
// the pod (image, args, env, ports, probes, resources, security, volumes),
// Service ports, disruption budget. Labels and selectors may differ (the
// chart's add the release); the release's own Namespace is Helm's
// (--create-namespace).
func TestChartInstallsWhatTheKustomizeBaseInstalls(t *testing.T) {
	base := kustomizetest.Build(t, "deploy/base")
	chartObjs := mustRender(t, nil)

	byKey := func(objs []*unstructured.Unstructured) map[string]*unstructured.Unstructured {
		m := map[string]*unstructured.Unstructured{}
		for _, o := range objs {
			m[o.GetKind()+" "+o.GetNamespace()+"/"+o.GetName()] = o
		}
		return m
	}
	want, got := byKey(base), byKey(chartObjs)
	delete(want, "Namespace /syncgate")
	require.Equal(t, sortedKeys(want), sortedKeys(got), "the same objects")

	for key, w := range want {
		g := got[key]
		require.Equal(t, matters(t, w), matters(t, g), "%s differs from deploy/base", key)
		for k, v := range w.GetLabels() {
			require.Equal(t, v, g.GetLabels()[k], "%s: label %s", key, k)
		}
		for _, path := range selectors[w.GetKind()] {
			ws, _, _ := unstructured.NestedStringMap(w.Object, path...)
			gs, _, _ := unstructured.NestedStringMap(g.Object, path...)
			for k, v := range ws {
				require.Equal(t, v, gs[k], "%s: %v selects what deploy/base's does", key, path)
			}
		}
	}
}

// selectors are where an object selects pods: the chart's selectors hold
// deploy/base's labels and the release's.
var selectors = map[string][][]string{
	"Deployment":          {{"spec", "selector", "matchLabels"}, {"spec", "template", "metadata", "labels"}},
	"Service":             {{"spec", "selector"}},
	"PodDisruptionBudget": {{"spec", "selector", "matchLabels"}},
}

// matters is what of o must be equal: everything but its metadata and
// its selectors, which TestChartInstallsWhatTheKustomizeBaseInstalls
// checks apart.
func matters(t *testing.T, o *unstructured.Unstructured) map[string]any {
	t.Helper()
	c := o.DeepCopy().Object
	delete(c, "metadata")
	for _, path := range selectors[o.GetKind()] {
		unstructured.RemoveNestedField(c, path...)
	}
	switch o.GetKind() {
	case "Deployment":
		// The chart's pods carry a checksum of the settings, so that a
		// change rolls them; its anti-affinity selects its own labels.
		unstructured.RemoveNestedField(c, "spec", "template", "metadata")
		unstructured.RemoveNestedField(c, "spec", "template", "spec", "affinity", "podAntiAffinity",
			"preferredDuringSchedulingIgnoredDuringExecution")
		terms, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "affinity", "podAntiAffinity",
			"preferredDuringSchedulingIgnoredDuringExecution")
		require.Len(t, terms, 1)
		term := terms[0].(map[string]any)
		topology, _, _ := unstructured.NestedString(term, "podAffinityTerm", "topologyKey")
		c["antiAffinity"] = map[string]any{"weight": term["weight"], "topologyKey": topology}
	case "Service":
		if _, ok, _ := unstructured.NestedString(c, "spec", "type"); !ok {
			_ = unstructured.SetNestedField(c, "ClusterIP", "spec", "type")
		}
	}
	return c
}

func sortedKeys(m map[string]*unstructured.Unstructured) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
