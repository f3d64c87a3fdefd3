package decrypt

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	fage "filippo.io/age"
	"filippo.io/age/armor"
	"github.com/ProtonMail/go-crypto/openpgp"
	pgparmor "github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/getsops/sops/v3/shamir"

	"github.com/syncgate/syncgate/sync/render"
)

// metadata is a document's `sops` section, as SOPS documents it. Only
// age and OpenPGP recipients can open a data key here; the other key
// types are read to be named in a refusal.
type metadata struct {
	ShamirThreshold int        `json:"shamir_threshold" yaml:"shamir_threshold"`
	KeyGroups       []keyGroup `json:"key_groups" yaml:"key_groups"`
	keyGroup        `yaml:",inline"`

	LastModified            string `json:"lastmodified" yaml:"lastmodified"`
	MAC                     string `json:"mac" yaml:"mac"`
	UnencryptedSuffix       string `json:"unencrypted_suffix" yaml:"unencrypted_suffix"`
	EncryptedSuffix         string `json:"encrypted_suffix" yaml:"encrypted_suffix"`
	UnencryptedRegex        string `json:"unencrypted_regex" yaml:"unencrypted_regex"`
	EncryptedRegex          string `json:"encrypted_regex" yaml:"encrypted_regex"`
	UnencryptedCommentRegex string `json:"unencrypted_comment_regex" yaml:"unencrypted_comment_regex"`
	EncryptedCommentRegex   string `json:"encrypted_comment_regex" yaml:"encrypted_comment_regex"`
	MACOnlyEncrypted        bool   `json:"mac_only_encrypted" yaml:"mac_only_encrypted"`
	Version                 string `json:"version" yaml:"version"`
}

type keyGroup struct {
	Age []struct {
		Recipient string `json:"recipient" yaml:"recipient"`
		Enc       string `json:"enc" yaml:"enc"`
	} `json:"age" yaml:"age"`
	PGP []struct {
		Fingerprint string `json:"fp" yaml:"fp"`
		Enc         string `json:"enc" yaml:"enc"`
	} `json:"pgp" yaml:"pgp"`
	KMS     []any `json:"kms" yaml:"kms"`
	GCPKMS  []any `json:"gcp_kms" yaml:"gcp_kms"`
	AzureKV []any `json:"azure_kv" yaml:"azure_kv"`
	Vault   []any `json:"hc_vault" yaml:"hc_vault"`
	HCKMS   []any `json:"hckms" yaml:"hckms"`
}

func (g keyGroup) empty() bool {
	return len(g.Age)+len(g.PGP)+len(g.KMS)+len(g.GCPKMS)+len(g.AzureKV)+len(g.Vault)+len(g.HCKMS) == 0
}

// groups are the key groups: the top-level keys when any, else key_groups.
func (m *metadata) groups() []keyGroup {
	if !m.keyGroup.empty() {
		return []keyGroup{m.keyGroup}
	}
	return m.KeyGroups
}

// rules reads the encryption rules, refusing more than one, as SOPS does.
func (m *metadata) rules() (rules, error) {
	r := rules{unencryptedSuffix: m.UnencryptedSuffix, encryptedSuffix: m.EncryptedSuffix, macOnlyEncrypted: m.MACOnlyEncrypted}
	set := 0
	for _, s := range []string{m.UnencryptedSuffix, m.EncryptedSuffix, m.UnencryptedRegex, m.EncryptedRegex, m.UnencryptedCommentRegex, m.EncryptedCommentRegex} {
		if s != "" {
			set++
		}
	}
	if set > 1 {
		return r, errors.New("more than one of the encrypted/unencrypted suffix and regex settings")
	}
	if set == 0 {
		r.unencryptedSuffix = "_unencrypted"
	}
	for _, re := range []struct {
		expr string
		to   **regexp.Regexp
	}{
		{m.UnencryptedRegex, &r.unencryptedRegex}, {m.EncryptedRegex, &r.encryptedRegex},
		{m.UnencryptedCommentRegex, &r.unencryptedComment}, {m.EncryptedCommentRegex, &r.encryptedComment},
	} {
		if re.expr == "" {
			continue
		}
		var err error
		if *re.to, err = regexp.Compile(re.expr); err != nil {
			return r, fmt.Errorf("a regex setting does not compile: %w", err)
		}
	}
	return r, nil
}

// recipients names the keys a document is encrypted for.
func (m *metadata) recipients() string {
	var out []string
	for _, g := range m.groups() {
		for _, k := range g.Age {
			out = append(out, "age "+k.Recipient)
		}
		for _, k := range g.PGP {
			out = append(out, "pgp "+k.Fingerprint)
		}
		for name, n := range map[string]int{"kms": len(g.KMS), "gcp_kms": len(g.GCPKMS), "azure_kv": len(g.AzureKV), "hc_vault": len(g.Vault), "hckms": len(g.HCKMS)} {
			if n > 0 {
				out = append(out, fmt.Sprintf("%d %s key(s)", n, name))
			}
		}
	}
	if len(out) == 0 {
		return "no key"
	}
	return strings.Join(out, ", ")
}

var errNoKey = errors.New("no offered key opens the data key")

// dataKey opens the document's data key with the offered keys: in each
// key group the first age, then OpenPGP, key that opens it; with more
// than one group, the groups' parts joined by Shamir's scheme once there
// are as many as its threshold. Each private-key operation is taken from
// budget first; running out is a refusal.
func (m *metadata) dataKey(keys *Keys, budget *render.KeyBudget) ([]byte, error) {
	groups := m.groups()
	var parts [][]byte
	for _, g := range groups {
		part, err := keys.open(g, budget)
		if err != nil {
			return nil, err
		}
		if part != nil {
			parts = append(parts, part)
		}
		if len(groups) > 1 && m.ShamirThreshold > 0 && len(parts) == m.ShamirThreshold {
			break
		}
	}
	if len(groups) <= 1 {
		if len(parts) != 1 {
			return nil, errNoKey
		}
		return parts[0], nil
	}
	if len(parts) == 0 || len(parts) < m.ShamirThreshold {
		return nil, errNoKey
	}
	key, err := shamir.Combine(parts)
	if err != nil {
		return nil, errNoKey
	}
	return key, nil
}

// open is the part of the data key a group holds, nil when no offered
// key opens it. Age keys whose recipient is an offered identity's are
// tried first, the others after (the recipient field is a label, not
// what age reads), and on each the identity it names first: a file SOPS
// wrote opens at the first operation. Each try of an age key with one
// identity costs its stanzas, of an OpenPGP key the recipient packets
// naming an offered key; the budget is charged those that fail, and the
// weight of all (pgpCost). An enc whose data key the render opened
// before costs none.
func (k *Keys) open(g keyGroup, budget *render.KeyBudget) ([]byte, error) {
	for _, labelled := range []bool{true, false} {
		for _, a := range g.Age {
			ids, mine := k.ageOrder(a.Recipient)
			if mine != labelled || len(ids) == 0 {
				continue
			}
			if plain := budget.Recall(a.Enc); plain != nil {
				return plain, nil
			}
			n := max(1, ageStanzas(a.Enc))
			for _, id := range ids {
				var plain []byte
				if err := budget.Try(n, n*render.KeyCostX25519, func() bool { plain = openAge(id, a.Enc); return plain != nil }); err != nil {
					return nil, refuse("%w", err)
				}
				if plain != nil {
					budget.Remember(a.Enc, plain)
					return plain, nil
				}
			}
		}
	}
	for _, p := range g.PGP {
		if len(k.pgp) == 0 {
			break
		}
		if plain := budget.Recall(p.Enc); plain != nil {
			return plain, nil
		}
		n, cost := 0, 0
		for _, id := range pgpRecipients(p.Enc) {
			tried := k.pgp.DecryptionKeys() // a hidden recipient: every key
			if id != 0 {
				tried = k.pgp.KeysById(id)
			}
			n += len(tried)
			for _, key := range tried {
				cost += pgpCost(key)
			}
		}
		if n == 0 {
			continue // no offered key can open it: go-crypto would try none
		}
		var plain []byte
		if err := budget.Try(n, cost, func() bool { plain, _ = openPGP(k.pgp, p.Enc); return plain != nil }); err != nil {
			return nil, refuse("%w", err)
		}
		if plain != nil {
			budget.Remember(p.Enc, plain)
			return plain, nil
		}
	}
	return nil, nil
}

// ageOrder is the offered age identities in the order they are tried on
// an age key labelled recipient, the one of that recipient first, and
// whether one is.
func (k *Keys) ageOrder(recipient string) ([]fage.Identity, bool) {
	for i, r := range k.ageRecipients {
		if r == recipient && recipient != "" {
			ids := append([]fage.Identity{k.age[i]}, k.age[:i]...)
			return append(ids, k.age[i+1:]...), true
		}
	}
	return k.age, false
}

// openAge is the data key an armored age file holds for id, nil when id
// does not open it.
func openAge(id fage.Identity, enc string) []byte {
	r, err := fage.Decrypt(armor.NewReader(strings.NewReader(enc)), id)
	if err != nil {
		return nil
	}
	// a data key is 32 bytes: past 1 KiB the file holds none.
	plain, err := io.ReadAll(io.LimitReader(r, 1<<10+1))
	if err != nil || len(plain) > 1<<10 {
		return nil
	}
	return plain
}

// openPGP decrypts an armored OpenPGP message holding a data key with
// the keyring, as SOPS's pgp key source does without GnuPG.
func openPGP(ring openpgp.EntityList, enc string) ([]byte, error) {
	block, err := pgparmor.Decode(strings.NewReader(enc))
	if err != nil {
		return nil, err
	}
	md, err := openpgp.ReadMessage(block.Body, ring, nil, nil)
	if err != nil {
		return nil, err
	}
	// Read to the end, where the integrity check is; a data key is 32
	// bytes, so a message that decompresses past 1 KiB holds none.
	plain, err := io.ReadAll(io.LimitReader(md.UnverifiedBody, 1<<10+1))
	if err != nil {
		return nil, err
	}
	if len(plain) > 1<<10 {
		return nil, errNoKey
	}
	return plain, nil
}

// checkMAC compares the MAC the walk summed with the document's, which
// is encrypted under the data key with its lastmodified time as
// additional data.
func (m *metadata) checkMAC(dataKey []byte, computed string) bool {
	t, err := time.Parse(time.RFC3339, m.LastModified)
	if err != nil {
		return false
	}
	v, _, err := openValue(m.MAC, dataKey, t.Format(time.RFC3339))
	if err != nil {
		return false
	}
	s, ok := v.(string)
	return ok && s == computed
}
