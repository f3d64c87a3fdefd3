package flux

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"slices"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestTarballIsTheFilesInOrderAndTheSameEachTime(t *testing.T) {
	files := map[string]string{"b/obj.yaml": "kind: B\n", "a/obj.yaml": "kind: A\n", "a/empty.yaml": ""}
	one, err := Tarball(files)
	if err != nil {
		t.Fatal(err)
	}
	two, err := Tarball(files)
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

func TestReadyWatchWaitsForEveryNameAtTheRevision(t *testing.T) {
	w := &ReadyWatch{at: map[string]time.Time{}, last: map[string]string{}, wake: make(chan struct{}, 1)}
	t0 := time.Now()
	// Ready at the old revision, in progress, or a generation not yet
	// observed: none counts for the new one.
	w.note(kustomization("a", 1, 1, "True", "main@sha1:old"), t0)
	w.note(kustomization("a", 1, 1, "Unknown", "main@sha1:new"), t0)
	w.note(kustomization("b", 2, 1, "True", "main@sha1:new"), t0)
	if _, err := w.Await(context.Background(), "main@sha1:new", 10*time.Millisecond, "a", "b"); err == nil {
		t.Fatal("Await returned before any was Ready at the revision")
	}
	w.note(kustomization("a", 1, 1, "True", "main@sha1:new"), t0.Add(time.Second))
	w.note(kustomization("b", 2, 2, "True", "main@sha1:new"), t0.Add(2*time.Second))
	w.note(kustomization("b", 2, 2, "True", "main@sha1:new"), t0.Add(3*time.Second)) // a resync: the first time stays
	got, err := w.Await(context.Background(), "main@sha1:new", time.Second, "a", "b")
	if err != nil {
		t.Fatal(err)
	}
	if want := t0.Add(2 * time.Second); !got.Equal(want) {
		t.Errorf("Await = %v after t0, want the last one's first Ready, %v", got.Sub(t0), want.Sub(t0))
	}
}
