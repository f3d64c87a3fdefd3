package decrypt_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/syncgate/syncgate/sync/decrypt"
	"github.com/syncgate/syncgate/sync/render"
	"github.com/syncgate/syncgate/testing/sopstest"
)

const yamlDoc = `# the database
db:
    user: admin # who
    password: hunter2-plaintext
    port: 5432
    ratio: 0.25
    big: 1e+21
    on: true
    empty: ""
    nothing: null
    when: 2024-01-02T03:04:05Z
    token_unencrypted: visible
# primary first
hosts:
    - a.example.invalid
    - b.example.invalid
    - name: c
      weight: 3
nested:
    list:
        - - 1
          - 2
        - x: "quoted: yes"
`

const multiDoc = "a: 1\nb: two\n---\nc: three\n"

const jsonDoc = `{"db": {"user": "admin", "password": "hunter2-plaintext", "port": 5432, "ratio": 0.25, "on": false, "none": null},
 "hosts": ["a", "b", {"name": "c<&>"}], "empty": {}, "list": []}`

// decryptEntry decrypts doc as a data entry named name.
func decryptEntry(t *testing.T, k *decrypt.Keys, name string, doc []byte) ([]byte, error) {
	t.Helper()
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "gen"},
		"data": map[string]any{name: base64.StdEncoding.EncodeToString(doc)},
	}}
	if _, err := decrypt.New(keys{k}, "SOPS_SECRET").Decrypt(context.Background(), u, nil, budget()); err != nil {
		return nil, err
	}
	v, _, _ := unstructured.NestedString(u.Object, "data", name)
	return base64.StdEncoding.DecodeString(v)
}

// Every document SOPS encrypts, under each of its rules, decrypts to what
// `sops decrypt` prints.
func TestDecryptsAsSOPSDoes(t *testing.T) {
	id, recipient, err := sopstest.AgeKey()
	require.NoError(t, err)
	k := parse(t, map[string][]byte{"k.agekey": []byte(id)})
	docs := []struct {
		name, format, entry string
		plain               string
	}{
		{"yaml", sopstest.YAML, "config.yaml", yamlDoc},
		{"multi-document yaml", sopstest.YAML, "config.yaml", multiDoc},
		{"json", sopstest.JSON, "config.json", jsonDoc},
		{"binary", sopstest.Binary, "key.pem", "-----BEGIN KEY-----\nhunter2-plaintext\n\x00\u00e9\n"},
	}
	rules := map[string]sopstest.Options{
		"all values":          {},
		"encrypted regex":     {EncryptedRegex: "^(password|data|hosts)$"},
		"unencrypted regex":   {UnencryptedRegex: "^(user|port)$"},
		"encrypted suffix":    {EncryptedSuffix: "word"},
		"unencrypted suffix":  {UnencryptedSuffix: "_clear"},
		"mac only encrypted":  {EncryptedRegex: "^password$", MACOnlyEncrypted: true},
		"encrypted comment":   {EncryptedCommentRegex: "^ primary"},
		"unencrypted comment": {UnencryptedCommentRegex: "^ the database"},
	}
	for _, d := range docs {
		for rule, o := range rules {
			t.Run(d.name+"/"+rule, func(t *testing.T) {
				o.AgeRecipients = []string{recipient}
				enc, err := sopstest.Encrypt([]byte(d.plain), d.format, o)
				require.NoError(t, err)
				want, err := sopstest.Decrypted([]byte(d.plain), d.format)
				require.NoError(t, err)
				got, err := decryptEntry(t, k, d.entry, enc)
				require.NoError(t, err)
				assert.Equal(t, string(want), string(got))
			})
		}
	}
}

func TestChangedDocumentsAreRefused(t *testing.T) {
	id, recipient, err := sopstest.AgeKey()
	require.NoError(t, err)
	k := parse(t, map[string][]byte{"k.agekey": []byte(id)})
	plain := "user: admin\npassword: hunter2-plaintext\ntoken: secret-token-plaintext\n"
	for _, tc := range []struct {
		name   string
		o      sopstest.Options
		change func(string) string
		want   string // "" when the change is allowed
	}{
		{"a value in clear edited", sopstest.Options{EncryptedRegex: "^password$"},
			func(s string) string { return strings.Replace(s, "user: admin", "user: root", 1) }, "MAC does not match"},
		{"a value in clear edited, MAC over encrypted values only", sopstest.Options{EncryptedRegex: "^password$", MACOnlyEncrypted: true},
			func(s string) string { return strings.Replace(s, "user: admin", "user: root", 1) }, ""},
		{"an encrypted value removed", sopstest.Options{},
			func(s string) string { return removeLine(s, "token:") }, "MAC does not match"},
		{"an encrypted value removed, MAC over encrypted values only", sopstest.Options{MACOnlyEncrypted: true},
			func(s string) string { return removeLine(s, "token:") }, "MAC does not match"},
		{"two encrypted values swapped", sopstest.Options{},
			func(s string) string { return swapValues(s, "password: ", "token: ") }, "does not decrypt with its data key"},
		{"a value written in clear", sopstest.Options{},
			func(s string) string { return replaceValue(s, "password: ", "hunter2-plaintext") }, "does not decrypt with its data key"},
		{"the MAC of another encryption of the same values", sopstest.Options{},
			func(s string) string {
				other, err := sopstest.EncryptYAML([]byte(plain), sopstest.Options{AgeRecipients: []string{recipient}})
				require.NoError(t, err)
				return replaceValue(s, "    mac: ", valueOf(string(other), "    mac: "))
			}, "MAC does not match"},
		{"the rules changed", sopstest.Options{EncryptedRegex: "^password$"},
			func(s string) string { return strings.Replace(s, "^password$", "^(password|user)$", 1) }, "does not decrypt with its data key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			o.AgeRecipients = []string{recipient}
			enc, err := sopstest.EncryptYAML([]byte(plain), o)
			require.NoError(t, err)
			changed := tc.change(string(enc))
			require.NotEqual(t, string(enc), changed)
			_, err = decryptEntry(t, k, "c.yaml", []byte(changed))
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, render.ErrDecrypt)
			assert.Contains(t, err.Error(), tc.want)
			noPlaintext(t, err)
		})
	}
}

func removeLine(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func valueOf(s, prefix string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			return strings.TrimPrefix(l, prefix)
		}
	}
	return ""
}

func replaceValue(s, prefix, v string) string {
	return strings.Replace(s, prefix+valueOf(s, prefix), prefix+v, 1)
}

func swapValues(s, a, b string) string {
	va, vb := valueOf(s, a), valueOf(s, b)
	return replaceValue(replaceValue(s, a, vb), b, va)
}

// A data key split between key groups opens with the threshold of their
// parts, not with fewer.
func TestShamirKeyGroups(t *testing.T) {
	var ids, recipients []string
	for range 3 {
		id, r, err := sopstest.AgeKey()
		require.NoError(t, err)
		ids, recipients = append(ids, id), append(recipients, r)
	}
	plain := "password: hunter2-plaintext\n"
	enc, err := sopstest.Encrypt([]byte(plain), sopstest.YAML, sopstest.Options{
		ShamirGroups: [][]string{{recipients[0]}, {recipients[1]}, {recipients[2]}}, ShamirThreshold: 2,
	})
	require.NoError(t, err)
	two := parse(t, map[string][]byte{"a.agekey": []byte(ids[0]), "c.agekey": []byte(ids[2])})
	got, err := decryptEntry(t, two, "s.yaml", enc)
	require.NoError(t, err)
	assert.Equal(t, plain, string(got))

	one := parse(t, map[string][]byte{"b.agekey": []byte(ids[1])})
	_, err = decryptEntry(t, one, "s.yaml", enc)
	require.ErrorIs(t, err, render.ErrDecrypt)
	assert.Contains(t, err.Error(), "no decryption key offered opens it")
}
