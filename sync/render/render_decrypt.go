package render

import (
	"context"
	"crypto/sha256"
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
// Limits.KeyAttempts and Limits.KeyCost: a Decrypter runs each
// private-key operation through it. A refusal of the object is an error
// wrapping ErrDecrypt; any other error is trouble, which may pass on a
// retry. Its errors never hold plaintext.
type Decrypter interface {
	Decrypt(ctx context.Context, u *unstructured.Unstructured, source []byte, keys *KeyBudget) (bool, error)
}

// KeyBudget is what is left, in one render, of Limits.KeyAttempts (the
// private-key operations that fail: an age stanza or OpenPGP recipient
// packet tried with an offered key that does not open it, which a commit
// chooses the number of), of Limits.KeyCost (the weight of every
// operation, failing or not, by the processor time its key takes) and of
// Limits.Documents (the data keys opened). It also remembers the data
// keys opened, by the encrypted key they were opened from, for the
// render: the same enc met again (a file reached twice, or copied) costs
// nothing. They are held in memory for the render alone.
type KeyBudget struct {
	limit, spent  int
	cost, charged int
	opens, opened int
	memo          map[[sha256.Size]byte][]byte
}

// NewKeyBudget is a budget of limit private-key operations that fail,
// cost units of work (see Limits.KeyCost) and opens data keys opened.
func NewKeyBudget(limit, cost, opens int) *KeyBudget {
	return &KeyBudget{limit: limit, cost: cost, opens: opens, memo: map[[sha256.Size]byte][]byte{}}
}

// Try runs op, at most n private-key operations weighing cost units in
// all, of which, when op reports success, the last is the one that
// opened the data key. The budget must have room for all n to fail and
// for their cost; it is charged n operations that fail when op fails,
// n-1 when it succeeds, and cost either way. Past a limit it is a
// refusal (ErrTooMany) and op does not run.
func (b *KeyBudget) Try(n, cost int, op func() bool) error {
	if b.spent+n > b.limit {
		return because(ErrTooMany, "decrypting this may take the render past the limit of %d private-key operations that fail "+
			"(an age stanza or OpenPGP recipient packet tried with an offered key that does not open it)", b.limit)
	}
	if b.charged+cost > b.cost {
		return because(ErrTooMany, "decrypting this may take the render past its limit of %d units of private-key work "+
			"(render.Limits.KeyCost; %d spent on the Secrets before this one, which may take %d more). An operation costs %d unit "+
			"with an age or OpenPGP Curve25519 key, %d with RSA-2048, %d with RSA-3072, %d with RSA-4096: the limit opens about "+
			"%d files for an RSA-4096 key, %d for an RSA-2048 one. Encrypt the Secrets for an age key, or split the namespace",
			b.cost, b.charged, cost, KeyCostX25519, KeyCostRSA(2048), KeyCostRSA(3072), KeyCostRSA(4096), min(b.cost/KeyCostRSA(4096), b.opens), min(b.cost/KeyCostRSA(2048), b.opens))
	}
	if b.opened >= b.opens {
		return because(ErrTooMany, "decrypting this takes the render past %d data keys opened", b.opens)
	}
	b.charged += cost
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

// Charged is how many units of Limits.KeyCost were taken.
func (b *KeyBudget) Charged() int { return b.charged }

// Recall is the data key opened from enc earlier in the render, nil when
// none was.
func (b *KeyBudget) Recall(enc string) []byte { return b.memo[sha256.Sum256([]byte(enc))] }

// Remember keeps the data key opened from enc for the rest of the render.
func (b *KeyBudget) Remember(enc string, dataKey []byte) {
	b.memo[sha256.Sum256([]byte(enc))] = dataKey
}

// KeyCostX25519 is the weight, in units of Limits.KeyCost, of one
// private-key operation with an age X25519 identity or an OpenPGP
// Curve25519 or Curve448 key; see KeyCostRSA.
const KeyCostX25519 = 1

// KeyCostRSA is the weight of one RSA private-key operation with a
// modulus of bits, which grows with its cube: 4 units at 2048 bits, 14 at
// 3072, 32 at 4096. Measured in processor time per operation on this
// project's 2 shared cores (sync/decrypt's BenchmarkKeyOperation,
// cpu-ms/op): age 0.25 ms (an OpenPGP Curve25519 one 0.05 ms), RSA-2048
// 1.0 ms, RSA-3072 2.7 to 3.1 ms, RSA-4096 6.1 to 6.3 ms; a unit is
// 0.25 to 0.27 ms of processor time, whatever the key. With the
// machine loaded (load average 20 to 30), an RSA-4096 operation took 24
// to 29 ms of wall-clock time, RSA-2048 3.3 to 4.5 ms.
func KeyCostRSA(bits int) int {
	c := (4*bits*bits/2048*bits/2048 + 2047) / 2048 // ceil(4 * (bits/2048)^3)
	return max(c, KeyCostX25519)
}

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
	keys := NewKeyBudget(r.opts.Limits.KeyAttempts, r.opts.Limits.KeyCost, r.opts.Limits.Documents)
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
