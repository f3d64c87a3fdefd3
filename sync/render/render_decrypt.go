package render

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Decrypter decrypts the encrypted objects of a render (SOPS-encrypted
// Secrets, sync/decrypt) in place and says whether it changed u. source
// is, for a Secret SOPS encrypted whole, its YAML as the render read it
// from its file or from the kustomize build, in the order written, since
// SOPS's MAC covers the values in that order; nil when the render kept
// none (a List's item). keys is what is left of the render's
// Limits.KeyAttempts: a Decrypter runs each private-key operation
// through it. A refusal of the object is an error wrapping
// ErrDecrypt; any other error is trouble, which may pass on a retry. Its
// errors never hold plaintext.
type Decrypter interface {
	Decrypt(ctx context.Context, u *unstructured.Unstructured, source []byte, keys *KeyBudget) (bool, error)
}

// KeyBudget is what is left of Limits.KeyAttempts in one render: the
// private-key operations that fail (an age stanza or OpenPGP recipient
// packet tried with an offered key that does not open it), which a
// commit chooses the number of. The ones that open a data key are
// bounded apart, at Limits.Documents: each is a document SOPS encrypted
// for an offered key, so a namespace of encrypted Secrets renders
// however many it holds.
type KeyBudget struct {
	limit, spent  int
	opens, opened int
}

// NewKeyBudget is a budget of limit private-key operations that fail and
// opens that succeed.
func NewKeyBudget(limit, opens int) *KeyBudget { return &KeyBudget{limit: limit, opens: opens} }

// Try runs op, at most n private-key operations of which, when op
// reports success, the last is the one that opened the data key. The
// budget must have room for all n to fail; it is charged n when op
// fails, n-1 when it succeeds. Past the limit it is a refusal
// (ErrTooMany) and op does not run.
func (b *KeyBudget) Try(n int, op func() bool) error {
	if b.spent+n > b.limit {
		return because(ErrTooMany, "decrypting this may take the render past the limit of %d private-key operations that fail "+
			"(an age stanza or OpenPGP recipient packet tried with an offered key that does not open it)", b.limit)
	}
	if b.opened >= b.opens {
		return because(ErrTooMany, "decrypting this takes the render past %d data keys opened", b.opens)
	}
	if op() {
		b.spent += n - 1
		b.opened++
		return nil
	}
	b.spent += n
	return nil
}

// Spent is how many operations that fail were taken.
func (b *KeyBudget) Spent() int { return b.spent }

// sealed says whether u is a Secret SOPS encrypted whole: its source is
// kept for the MAC.
func sealed(u *unstructured.Unstructured) bool {
	_, ok := u.Object["sops"]
	return ok && u.GetKind() == "Secret" && u.GetAPIVersion() == "v1"
}

// decrypt runs in this process, after the kustomize build process has
// ended: the build never sees a key or a decrypted value, so a commit
// that subverts kustomize cannot copy either into what it renders.
func (r *Renderer) decrypt(ctx context.Context, objs []object) error {
	keys := NewKeyBudget(r.opts.Limits.KeyAttempts, r.opts.Limits.Documents)
	for i, o := range objs {
		if sealed(o.obj) {
			objs[i].origin = "" // what it decrypts to is not the blob's
		}
		if r.opts.Decrypter == nil {
			if sealed(o.obj) {
				return objectErr(o.file, o.String(), because(ErrDecrypt, "encrypted with SOPS, and no decryption keys are configured"))
			}
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		name := o.String()
		changed, err := r.opts.Decrypter.Decrypt(ctx, o.obj, o.source, keys)
		if err != nil {
			if errors.Is(err, ErrDecrypt) {
				return objectErr(o.file, name, err)
			}
			return fmt.Errorf("render: decrypt %s in %s: %w", name, o.file, err)
		}
		if changed {
			objs[i].origin = ""
		}
	}
	return nil
}
