package render

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Decrypter decrypts the encrypted objects of a render (SOPS-encrypted
// Secrets, sync/decrypt) in place and says whether it changed u. A
// refusal of the object is an error wrapping ErrDecrypt; any other error
// is trouble, which may pass on a retry. Its errors never hold plaintext.
type Decrypter interface {
	Decrypt(ctx context.Context, u *unstructured.Unstructured) (bool, error)
}

// decrypt runs in this process, after the kustomize build process has
// ended: the build never sees a key or a decrypted value, so a commit
// that subverts kustomize cannot copy either into what it renders.
func (r *Renderer) decrypt(ctx context.Context, objs []object) error {
	for _, o := range objs {
		if r.opts.Decrypter == nil {
			if _, sops := o.obj.Object["sops"]; sops && o.obj.GetKind() == "Secret" {
				return objectErr(o.file, o.String(), because(ErrDecrypt, "encrypted with SOPS, and no decryption keys are configured"))
			}
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		name := o.String()
		if _, err := r.opts.Decrypter.Decrypt(ctx, o.obj); err != nil {
			if errors.Is(err, ErrDecrypt) {
				return objectErr(o.file, name, err)
			}
			return fmt.Errorf("render: decrypt %s in %s: %w", name, o.file, err)
		}
	}
	return nil
}
