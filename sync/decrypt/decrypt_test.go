package decrypt_test

import (
	"context"
	"encoding/base64"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age/plugin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/syncgate/syncgate/sync/decrypt"
	"github.com/syncgate/syncgate/sync/render"
	"github.com/syncgate/syncgate/testing/sopstest"
)

const plainSecret = `apiVersion: v1
kind: Secret
metadata:
  name: db
type: Opaque
stringData:
  password: hunter2-plaintext
data:
  token: c2VjcmV0LXRva2VuLXBsYWludGV4dA==
`

// The plaintexts above; none may appear in an error.
var plaintexts = []string{"hunter2-plaintext", "secret-token-plaintext", "c2VjcmV0LXRva2VuLXBsYWludGV4dA=="}

type keys struct{ k *decrypt.Keys }

func (s keys) Keys(context.Context) (*decrypt.Keys, error) { return s.k, nil }

func object(t *testing.T, doc []byte) *unstructured.Unstructured {
	t.Helper()
	m := map[string]any{}
	require.NoError(t, yaml.Unmarshal(doc, &m))
	return &unstructured.Unstructured{Object: m}
}

func parse(t *testing.T, data map[string][]byte) *decrypt.Keys {
	t.Helper()
	k, err := decrypt.ParseKeys(data)
	require.NoError(t, err)
	return k
}

func noPlaintext(t *testing.T, err error) {
	t.Helper()
	for _, p := range plaintexts {
		assert.NotContains(t, err.Error(), p)
	}
}

func TestAgeEncryptedSecretIsDecrypted(t *testing.T) {
	id, recipient, err := sopstest.AgeKey()
	require.NoError(t, err)
	enc, err := sopstest.EncryptYAML([]byte(plainSecret), sopstest.Options{AgeRecipients: []string{recipient}, EncryptedRegex: "^(data|stringData)$"})
	require.NoError(t, err)
	for _, p := range plaintexts {
		require.NotContains(t, string(enc), p)
	}
	u := object(t, enc)
	require.True(t, decrypt.Encrypted(u))

	d := decrypt.New(keys{parse(t, map[string][]byte{"identity.agekey": []byte("# a comment\n" + id + "\n")})}, "SOPS_SECRET")
	changed, err := d.Decrypt(context.Background(), u, enc, budget())
	require.NoError(t, err)
	assert.True(t, changed)
	assert.NotContains(t, u.Object, "sops")
	pw, _, _ := unstructured.NestedString(u.Object, "stringData", "password")
	assert.Equal(t, "hunter2-plaintext", pw)
	tok, _, _ := unstructured.NestedString(u.Object, "data", "token")
	assert.Equal(t, "c2VjcmV0LXRva2VuLXBsYWludGV4dA==", tok)
	assert.Equal(t, "db", u.GetName())
}

func TestPGPEncryptedSecretIsDecrypted(t *testing.T) {
	k, err := sopstest.NewPGPKey()
	require.NoError(t, err)
	ring := filepath.Join(t.TempDir(), "pubring.gpg")
	require.NoError(t, sopstest.WritePubRing(ring, k))
	enc, err := sopstest.EncryptYAML([]byte(plainSecret), sopstest.Options{PGPFingerprints: []string{k.Fingerprint}, PubRing: ring, EncryptedRegex: "^(data|stringData)$"})
	require.NoError(t, err)
	u := object(t, enc)

	d := decrypt.New(keys{parse(t, map[string][]byte{"ops.asc": k.Armored})}, "SOPS_SECRET")
	_, err = d.Decrypt(context.Background(), u, enc, budget())
	require.NoError(t, err)
	pw, _, _ := unstructured.NestedString(u.Object, "stringData", "password")
	assert.Equal(t, "hunter2-plaintext", pw)
}

func TestSecretsThatCannotBeDecryptedAreRefused(t *testing.T) {
	_, recipient, err := sopstest.AgeKey()
	require.NoError(t, err)
	otherID, _, err := sopstest.AgeKey()
	require.NoError(t, err)
	enc, err := sopstest.EncryptYAML([]byte(plainSecret), sopstest.Options{AgeRecipients: []string{recipient}, EncryptedRegex: "^(data|stringData)$"})
	require.NoError(t, err)
	ctx := context.Background()

	t.Run("no keys configured", func(t *testing.T) {
		_, err := decrypt.New(nil, "SOPS_SECRET").Decrypt(ctx, object(t, enc), enc, budget())
		require.ErrorIs(t, err, render.ErrDecrypt)
		assert.Contains(t, err.Error(), "no decryption keys are configured (SOPS_SECRET)")
	})
	t.Run("another key", func(t *testing.T) {
		d := decrypt.New(keys{parse(t, map[string][]byte{"other.agekey": []byte(otherID)})}, "SOPS_SECRET")
		u := object(t, enc)
		_, err := d.Decrypt(ctx, u, enc, budget())
		require.ErrorIs(t, err, render.ErrDecrypt)
		assert.Contains(t, err.Error(), recipient, "names the key it needs")
		assert.Contains(t, err.Error(), "other.agekey", "names the keys offered")
		noPlaintext(t, err)
	})
	t.Run("a value left in clear", func(t *testing.T) {
		id, rcpt, err := sopstest.AgeKey()
		require.NoError(t, err)
		enc, err := sopstest.EncryptYAML([]byte(plainSecret), sopstest.Options{AgeRecipients: []string{rcpt}, EncryptedRegex: "^(data|stringData)$"})
		require.NoError(t, err)
		u := object(t, enc)
		// Someone edits the file and writes a new value in clear.
		require.NoError(t, unstructured.SetNestedField(u.Object, "hunter2-plaintext", "stringData", "password"))
		d := decrypt.New(keys{parse(t, map[string][]byte{"k.agekey": []byte(id)})}, "SOPS_SECRET")
		_, err = d.Decrypt(ctx, u, enc, budget())
		require.ErrorIs(t, err, render.ErrDecrypt)
		noPlaintext(t, err)
	})
}

func TestEncryptedDataEntriesAreDecrypted(t *testing.T) {
	id, recipient, err := sopstest.AgeKey()
	require.NoError(t, err)
	// A secretGenerator over an encrypted file puts the whole SOPS
	// document in one entry.
	doc, err := sopstest.EncryptYAML([]byte("user: admin\npassword: hunter2-plaintext\n"), sopstest.Options{AgeRecipients: []string{recipient}})
	require.NoError(t, err)
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "gen"},
		"data": map[string]any{"config.yaml": base64.StdEncoding.EncodeToString(doc), "plain": "YQ=="},
	}}
	d := decrypt.New(keys{parse(t, map[string][]byte{"k.agekey": []byte(id)})}, "SOPS_SECRET")
	changed, err := d.Decrypt(context.Background(), u, nil, budget())
	require.NoError(t, err)
	assert.True(t, changed)
	v, _, _ := unstructured.NestedString(u.Object, "data", "config.yaml")
	raw, err := base64.StdEncoding.DecodeString(v)
	require.NoError(t, err)
	assert.Equal(t, "user: admin\npassword: hunter2-plaintext\n", string(raw))
	p, _, _ := unstructured.NestedString(u.Object, "data", "plain")
	assert.Equal(t, "YQ==", p)
}

func TestPlainObjectsAreLeftAlone(t *testing.T) {
	u := object(t, []byte(plainSecret))
	changed, err := decrypt.New(nil, "SOPS_SECRET").Decrypt(context.Background(), u, nil, budget())
	require.NoError(t, err)
	assert.False(t, changed)
	cm := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "sops": map[string]any{}}}
	changed, err = decrypt.New(nil, "SOPS_SECRET").Decrypt(context.Background(), cm, nil, budget())
	require.NoError(t, err)
	assert.False(t, changed)
}

func TestBadKeysAreNamedNeverQuoted(t *testing.T) {
	for name, v := range map[string]string{
		"a.agekey": "AGE-SECRET-KEY-NOTAKEY-hunter2-plaintext",
		"b.asc":    "-----BEGIN PGP PRIVATE KEY BLOCK-----\nhunter2-plaintext\n",
	} {
		_, err := decrypt.ParseKeys(map[string][]byte{name: []byte(v)})
		require.Error(t, err)
		assert.Contains(t, err.Error(), name)
		assert.False(t, strings.Contains(err.Error(), "hunter2"), err.Error())
	}
	k, err := decrypt.ParseKeys(map[string][]byte{"README": []byte("x")})
	require.NoError(t, err)
	assert.True(t, k.Empty())
}

// An age plugin identity would run a plugin program on every stanza a
// commit offers it; the agent runs none, and says so when it reads the
// keys, not on each Secret.
func TestAgePluginIdentitiesAreRefused(t *testing.T) {
	id := plugin.EncodeIdentity("yubikey", []byte("slot-1"))
	_, err := decrypt.ParseKeys(map[string][]byte{"token.agekey": []byte(id + "\n")})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "token.agekey")
	assert.Contains(t, err.Error(), "runs no age plugins")
	assert.False(t, errors.Is(err, render.ErrDecrypt))
}

// budget is a render's budget of private-key operations.
func budget() *render.KeyBudget {
	return render.NewKeyBudget(render.DefaultLimits.KeyAttempts, render.DefaultLimits.KeyCost, render.DefaultLimits.Documents)
}
