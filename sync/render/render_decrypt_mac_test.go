package render_test

import (
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/syncgate/syncgate/sync/decrypt"
	"github.com/syncgate/syncgate/sync/render"
	"github.com/syncgate/syncgate/testing/sopstest"
)

const twoValues = `apiVersion: v1
kind: Secret
metadata:
  name: db
type: Opaque
stringData:
  password: s3cret-in-the-clear
  token: t0ken-in-the-clear
`

// A SOPS file changed after it was encrypted is refused as the sops
// command refuses it: its MAC, checked by the SOPS library, covers every
// value and their order (the encrypted ones alone with
// --mac-only-encrypted), so a value removed, a name or namespace
// rewritten, a field added, or the MAC itself removed all fail, although
// each value left still decrypts.
func TestEncryptedSecretsChangedAfterEncryptionAreRefused(t *testing.T) {
	keys, recipient := ageKey(t)
	encrypt := func(macOnlyEncrypted bool) string {
		enc, err := sopstest.EncryptYAML([]byte(twoValues), sopstest.Options{AgeRecipients: []string{recipient}, EncryptedRegex: "^(data|stringData)$", MACOnlyEncrypted: macOnlyEncrypted})
		require.NoError(t, err)
		return string(enc)
	}
	enc := encrypt(false)
	line := func(key string) *regexp.Regexp { return regexp.MustCompile(`(?m)^ +` + key + `: .*\n`) }
	require.Regexp(t, line("token"), enc)
	require.Regexp(t, line("mac"), enc)
	tampered := map[string]string{
		"a value removed":       line("token").ReplaceAllString(enc, ""),
		"the MAC removed":       line("mac").ReplaceAllString(enc, ""),
		"the name rewritten":    strings.Replace(enc, "name: db", "name: admin", 1),
		"the namespace set":     strings.Replace(enc, "name: db", "name: db\n    namespace: elsewhere", 1),
		"a field added":         strings.Replace(enc, "type: Opaque", "type: Opaque\nimmutable: true", 1),
		"the values swapped":    swap(t, enc, "password", "token"),
		"a ciphertext replaced": strings.Replace(enc, line("password").FindString(enc), line("password").FindString(encrypt(false)), 1),
	}
	run := func(t *testing.T, tree fstest.MapFS) ([]*unstructured.Unstructured, error) {
		r := newRenderer(t, func(o *render.Options) {
			o.Decrypter = decrypt.New(keys, "SOPS_SECRET")
			o.AllowNamespaces = []string{"elsewhere"}
		})
		return r.Render(tree, "team")
	}
	for name, doc := range tampered {
		t.Run(name, func(t *testing.T) {
			require.NotEqual(t, enc, doc)
			objs, err := run(t, fstest.MapFS{"team/secret.yaml": file(doc)})
			require.Error(t, err, "rendered %v", objs)
			var re *render.Error
			require.ErrorAs(t, err, &re)
			assert.ErrorIs(t, err, render.ErrDecrypt)
			assert.Equal(t, "team/secret.yaml", re.File)
			assert.NotContains(t, err.Error(), "in-the-clear")
		})
	}

	// A kustomize build that labels the Secret changes what a whole
	// document's MAC covers, not what a MAC of the encrypted values does.
	labelled := func(doc string) fstest.MapFS {
		return fstest.MapFS{"team/kustomization.yaml": file("resources: [secret.yaml]\ncommonLabels: {tier: db}\n"), "team/secret.yaml": file(doc)}
	}
	_, err := run(t, labelled(enc))
	require.ErrorIs(t, err, render.ErrDecrypt)
	assert.Contains(t, err.Error(), "--mac-only-encrypted", "says how to encrypt a Secret a build changes")
	objs, err := run(t, labelled(encrypt(true)))
	require.NoError(t, err)
	require.Len(t, objs, 1)
	pw, _, _ := unstructured.NestedString(objs[0].Object, "stringData", "password")
	assert.Equal(t, "s3cret-in-the-clear", pw)
	assert.Equal(t, "db", objs[0].GetLabels()["tier"])
	objs, err = run(t, labelled(line("token").ReplaceAllString(encrypt(true), "")))
	require.ErrorIs(t, err, render.ErrDecrypt, "an encrypted value removed still fails a MAC of the encrypted values: %v", objs)
}

// swap exchanges the values of two keys of a document, each line kept in
// its place.
func swap(t *testing.T, doc, a, b string) string {
	t.Helper()
	va := regexp.MustCompile(`(?m)^( +` + a + `: )(.*)$`).FindStringSubmatch(doc)
	vb := regexp.MustCompile(`(?m)^( +` + b + `: )(.*)$`).FindStringSubmatch(doc)
	require.Len(t, va, 3)
	require.Len(t, vb, 3)
	doc = strings.Replace(doc, va[0], va[1]+"SWAP", 1)
	doc = strings.Replace(doc, vb[0], vb[1]+va[2], 1)
	return strings.Replace(doc, va[1]+"SWAP", va[1]+vb[2], 1)
}
