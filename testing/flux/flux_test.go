package flux

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestTarballIsTheFilesInOrderAndTheSameEachTime(t *testing.T) {
	files := map[string]string{"b/obj.yaml": "kind: B\n", "a/obj.yaml": "kind: A\n", "a/empty.yaml": ""}
	one, err := tarball(files)
	if err != nil {
		t.Fatal(err)
	}
	two, err := tarball(files)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(one, two) {
		t.Fatal("the same files gave different tarballs: their digests would differ")
	}
	zr, err := gzip.NewReader(bytes.NewReader(one))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		if string(b) != files[h.Name] {
			t.Errorf("%s holds %q, want %q", h.Name, b, files[h.Name])
		}
		names = append(names, h.Name)
	}
	if want := []string{"a/empty.yaml", "a/obj.yaml", "b/obj.yaml"}; !slices.Equal(names, want) {
		t.Errorf("entries %v, want %v", names, want)
	}
}

func TestTuningLeavesDefaultsUnset(t *testing.T) {
	if got := (Tuning{}).Args(); len(got) != 0 {
		t.Errorf("zero tuning passed %v", got)
	}
	got := Tuning{QPS: 500, Burst: 1000, ConcurrentSSA: 64}.Args()
	want := []string{"--kube-api-qps=500", "--kube-api-burst=1000", "--concurrent-ssa=64"}
	if !slices.Equal(got, want) {
		t.Errorf("args %v, want %v", got, want)
	}
}

func kustomization(name string, generation, observed int64, ready, applied string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"metadata": map[string]any{"name": name, "generation": generation},
		"status": map[string]any{
			"observedGeneration":  observed,
			"lastAppliedRevision": applied,
			"conditions":          []any{map[string]any{"type": "Ready", "status": ready, "reason": "R", "message": "m"}},
		},
	}}
	return u
}

func TestReadyKeysOnlyForReadyAtAnObservedGeneration(t *testing.T) {
	for _, c := range []struct {
		u    *unstructured.Unstructured
		want []string
	}{
		{kustomization("a", 1, 1, "True", "main@sha1:new"), []string{"a main@sha1:new"}},
		{kustomization("a", 1, 1, "Unknown", "main@sha1:new"), nil}, // in progress
		{kustomization("a", 2, 1, "True", "main@sha1:old"), nil},    // a new spec not yet observed
		{kustomization("a", 1, 1, "False", "main@sha1:old"), nil},   // failed
	} {
		got, state := readyKeys(c.u)
		if !slices.Equal(got, c.want) || state == "" {
			t.Errorf("readyKeys(%v) = %v %q, want %v", c.u.Object["status"], got, state, c.want)
		}
	}
}
