package decrypt

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	fage "filippo.io/age"
	"filippo.io/age/armor"
	"github.com/ProtonMail/go-crypto/openpgp"
	pgparmor "github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/syncgate/syncgate/sync/render"
	"github.com/syncgate/syncgate/testing/sopstest"
)

// countingIdentity counts the private-key operations of an age identity:
// one per stanza it is tried on.
type countingIdentity struct {
	fage.Identity
	ops *int
}

func (c countingIdentity) Unwrap(stanzas []*fage.Stanza) ([]byte, error) {
	*c.ops += len(stanzas)
	return c.Identity.Unwrap(stanzas)
}

type fixedKeys struct{ k *Keys }

func (s fixedKeys) Keys(context.Context) (*Keys, error) { return s.k, nil }

const limitedSecret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: hunter2-plaintext\n"

// countedKeys are the keys of a new age identity, each operation of it
// counted in ops, and its recipient.
func countedKeys(t *testing.T) (k *Keys, recipient string, ops *int) {
	id, recipient, err := sopstest.AgeKey()
	require.NoError(t, err)
	k, err = ParseKeys(map[string][]byte{"k.agekey": []byte(id)})
	require.NoError(t, err)
	ops = new(int)
	k.age[0] = countingIdentity{Identity: k.age[0], ops: ops}
	return k, recipient, ops
}

func decryptSecret(k *Keys, doc []byte, b *render.KeyBudget) error {
	m := map[string]any{}
	if err := yaml.Unmarshal(doc, &m); err != nil {
		return err
	}
	changed, err := New(fixedKeys{k}, "SOPS_SECRET").Decrypt(context.Background(), &unstructured.Unstructured{Object: m}, doc, b)
	if err == nil && !changed {
		return errors.New("not decrypted")
	}
	return err
}

// A sops section of thousands of age keys ahead of the one that opens
// it is refused before any key is tried; the same key written fewer
// times than the bound is tried within the render's budget, which is
// charged the operations that fail.
func TestKeysOfASopsSectionAreBoundedBeforeAnyIsTried(t *testing.T) {
	k, mine, ops := countedKeys(t)
	_, other, err := sopstest.AgeKey()
	require.NoError(t, err)
	doc, err := sopstest.EncryptYAML([]byte(limitedSecret), sopstest.Options{AgeRecipients: []string{other, mine}, EncryptedRegex: "^(data|stringData)$"})
	require.NoError(t, err)

	b := render.NewKeyBudget(render.DefaultLimits.KeyAttempts, render.DefaultLimits.KeyCost, render.DefaultLimits.Documents)
	require.NoError(t, decryptSecret(k, doc, b), "the document as SOPS wrote it")
	assert.Equal(t, 1, *ops, "the key labelled with the offered identity's recipient tried first")
	assert.Zero(t, b.Spent())

	*ops = 0
	crowded, err := sopstest.Crowd(doc, 1700, "")
	require.NoError(t, err)
	require.Less(t, len(crowded), 1<<20, "within the render's file bound")
	err = decryptSecret(k, crowded, b)
	require.ErrorIs(t, err, render.ErrDecrypt)
	require.ErrorIs(t, err, render.ErrTooLarge)
	assert.Contains(t, err.Error(), "1702 age and OpenPGP master keys, more than the limit of 256")
	assert.Zero(t, *ops, "no key tried")

	// Fourteen copies of another key labelled with the offered one's
	// recipient ahead of it: fourteen operations that fail, then the one
	// that opens it.
	within, err := sopstest.Crowd(doc, 14, mine)
	require.NoError(t, err)
	b = render.NewKeyBudget(20, render.DefaultLimits.KeyCost, render.DefaultLimits.Documents)
	require.NoError(t, decryptSecret(k, within, b))
	assert.Equal(t, 15, *ops)
	assert.Equal(t, 14, b.Spent())
	err = decryptSecret(k, within, b)
	require.ErrorIs(t, err, render.ErrDecrypt)
	require.ErrorIs(t, err, render.ErrTooMany)
	assert.Contains(t, err.Error(), "past the limit of 20 private-key operations that fail")
	assert.Equal(t, b.Spent()+1, *ops, "every operation that failed taken from the budget first")
}

func TestSopsSectionShapeIsBounded(t *testing.T) {
	stanzas := func(n int) string {
		var rs []fage.Recipient
		for range n {
			id, err := fage.GenerateX25519Identity()
			require.NoError(t, err)
			rs = append(rs, id.Recipient())
		}
		var buf bytes.Buffer
		a := armor.NewWriter(&buf)
		w, err := fage.Encrypt(a, rs...)
		require.NoError(t, err)
		_, err = w.Write(make([]byte, 32))
		require.NoError(t, err)
		require.NoError(t, w.Close())
		require.NoError(t, a.Close())
		return buf.String()
	}
	key, err := sopstest.NewPGPKey()
	require.NoError(t, err)
	ring, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(key.Armored))
	require.NoError(t, err)
	packets := func(n int) string {
		var buf bytes.Buffer
		a, err := pgparmor.Encode(&buf, "PGP MESSAGE", nil)
		require.NoError(t, err)
		to := make([]*openpgp.Entity, n) // the same key n times: n RSA operations
		for i := range to {
			to[i] = ring[0]
		}
		w, err := openpgp.Encrypt(a, to, nil, nil, nil)
		require.NoError(t, err)
		_, err = io.Copy(w, bytes.NewReader(make([]byte, 32)))
		require.NoError(t, err)
		require.NoError(t, w.Close())
		require.NoError(t, a.Close())
		return buf.String()
	}
	require.Len(t, pgpRecipients(packets(3)), 3)
	require.Equal(t, 2, ageStanzas(stanzas(2)))

	groups := func(n int) *metadata {
		m := &metadata{ShamirThreshold: 1}
		m.KeyGroups = make([]keyGroup, n)
		for i := range m.KeyGroups {
			m.KeyGroups[i].KMS = []any{"arn"}
		}
		return m
	}
	// keys makes a sops section of one group of age, pgp and kms keys.
	keys := func(age, pgp, kms int) *metadata {
		m := &metadata{}
		m.Age = make([]struct {
			Recipient string `json:"recipient" yaml:"recipient"`
			Enc       string `json:"enc" yaml:"enc"`
		}, age)
		m.PGP = make([]struct {
			Fingerprint string `json:"fp" yaml:"fp"`
			Enc         string `json:"enc" yaml:"enc"`
		}, pgp)
		m.KMS = make([]any, kms)
		return m
	}
	// one makes sops sections of one master key of kind.
	one := func(kind string) func(enc string) *metadata {
		return func(enc string) *metadata {
			m := &metadata{}
			raw, err := json.Marshal(map[string]any{kind: []map[string]string{{"enc": enc}}})
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(raw, m))
			return m
		}
	}
	age, pgp := one("age"), one("pgp")
	for name, c := range map[string]struct {
		meta *metadata
		want string // "" accepted
	}{
		"16 key groups":                 {groups(MaxKeyGroups), ""},
		"256 age and OpenPGP keys":      {keys(MaxGroupKeys/2, MaxGroupKeys/2, 0), ""},
		"257 age and OpenPGP keys":      {keys(MaxGroupKeys/2+1, MaxGroupKeys/2, 0), "257 age and OpenPGP master keys, more than the limit of 256"},
		"an age key and 1,000 KMS keys": {keys(1, 0, 1000), ""},
		"17 key groups":                 {groups(MaxKeyGroups + 1), "17 key groups, more than the limit of 16"},
		"an enc of 4 KiB":               {age(strings.Repeat("A", MaxEncBytes)), ""},
		"an enc past 4 KiB":             {age(strings.Repeat("A", MaxEncBytes+1)), "4097 bytes, more than the limit of 4096"},
		"8 age stanzas":                 {age(stanzas(MaxRecipients)), ""},
		"9 age stanzas":                 {age(stanzas(MaxRecipients + 1)), "encrypted for 9 recipients, more than the limit of 8"},
		"8 OpenPGP recipient packets":   {pgp(packets(MaxRecipients)), ""},
		"9 OpenPGP recipient packets":   {pgp(packets(MaxRecipients + 1)), "encrypted for 9 recipients, more than the limit of 8"},
	} {
		t.Run(name, func(t *testing.T) {
			err := c.meta.check()
			if c.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, render.ErrTooLarge)
			require.ErrorIs(t, err, render.ErrDecrypt)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

// A data key opened once in a render is not opened again: a Secret whose
// data entries hold the same SOPS file, or a copy of a Secret, costs one
// private-key operation, and Limits.KeyCost is charged its weight once.
func TestADataKeyIsOpenedOncePerRender(t *testing.T) {
	k, mine, ops := countedKeys(t)
	file, err := sopstest.EncryptYAML([]byte("password: hunter2-plaintext\n"), sopstest.Options{AgeRecipients: []string{mine}})
	require.NoError(t, err)
	entry := base64.StdEncoding.EncodeToString(file)
	doc := []byte("apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  a.yaml: " + entry + "\n  b.yaml: " + entry + "\n")
	b := render.NewKeyBudget(render.DefaultLimits.KeyAttempts, render.DefaultLimits.KeyCost, render.DefaultLimits.Documents)
	require.NoError(t, decryptSecret(k, doc, b))
	require.NoError(t, decryptSecret(k, doc, b), "the same Secret again")
	assert.Equal(t, 1, *ops)
	assert.Equal(t, render.KeyCostX25519, b.Charged())
}

// An ECDH key weighs what its curve costs: a Brainpool P512r1 operation
// takes about as long as an RSA-4096 one, not an RSA-2048 one.
func TestPGPKeysWeighByCurve(t *testing.T) {
	for _, c := range []struct {
		curve packet.Curve
		cost  int
	}{
		{packet.Curve25519, render.KeyCostX25519},
		{packet.CurveNistP256, 1},
		{packet.CurveNistP521, 9},
		{packet.CurveBrainpoolP256, 10},
		{packet.CurveBrainpoolP512, render.KeyCostRSA(4096)},
	} {
		algo := packet.PubKeyAlgoECDSA
		if c.curve == packet.Curve25519 {
			algo = packet.PubKeyAlgoEdDSA
		}
		k, err := sopstest.NewPGPKeyOf(&packet.Config{Algorithm: algo, Curve: c.curve})
		require.NoError(t, err)
		ring, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(k.Armored))
		require.NoError(t, err)
		keys := ring.DecryptionKeys()
		require.Len(t, keys, 1)
		assert.Equal(t, c.cost, pgpCost(keys[0]), c.curve)
	}
}
