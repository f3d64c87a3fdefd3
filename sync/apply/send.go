package apply

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// fieldValidation is what the API server checks of a body's encoding
// beyond what the apply itself refuses. A server-side apply refuses a field
// the schema does not declare whatever this says; what the check adds is a
// second parse of the body for duplicate keys, and syncgate's bodies are
// JSON marshalled from a map, which cannot hold one. Ignore spares the API
// server that parse on every request (bench/README.md, "The body's fields
// checked once").
const fieldValidation = metav1.FieldValidationIgnore

// applyOptions are the options of every server-side apply of a body:
// syncgate's field manager taking its fields over, and, for a dry run,
// nothing stored.
func (a *Applier) applyOptions(dry bool) metav1.PatchOptions {
	opts := metav1.PatchOptions{FieldManager: a.opts.FieldManager, Force: ptr(true), FieldValidation: fieldValidation}
	if dry {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	return opts
}

func (a *Applier) send(ctx context.Context, d *desired) (*unstructured.Unstructured, error) {
	return a.resource(d).Patch(ctx, d.ref.Name, types.ApplyPatchType, d.body, a.applyOptions(false))
}

// sendDry is send as a server-side dry run. Nothing of the answer is read:
// the server sends the metadata alone, in protobuf, rather than the whole
// object in JSON, one fewer encoding for it and decoding for syncgate per
// object of the commit.
func (a *Applier) sendDry(ctx context.Context, d *desired) error {
	_, err := a.metadata(d).Patch(ctx, d.ref.Name, types.ApplyPatchType, d.body, a.applyOptions(true))
	return err
}

func ptr[T any](v T) *T { return &v }
