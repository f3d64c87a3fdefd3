package render_test

import (
	"context"
	"errors"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/syncgate/syncgate/sync/decrypt"
	"github.com/syncgate/syncgate/sync/render"
	"github.com/syncgate/syncgate/testing/sopstest"
)

type keySource struct{ k *decrypt.Keys }

func (s keySource) Keys(context.Context) (*decrypt.Keys, error) { return s.k, nil }

// ageKey is a new age key as the agent reads it from its key Secret, and
// the recipient that encrypts for it.
func ageKey(t *testing.T) (keySource, string) {
	id, recipient, err := sopstest.AgeKey()
	require.NoError(t, err)
	keys, err := decrypt.ParseKeys(map[string][]byte{"age.agekey": []byte(id)})
	require.NoError(t, err)
	return keySource{keys}, recipient
}

type troubled struct{}

func (troubled) Keys(context.Context) (*decrypt.Keys, error) {
	return nil, errors.New("connection refused")
}

const secretPlain = `apiVersion: v1
kind: Secret
metadata:
  name: db
stringData:
  password: s3cret-in-the-clear
`

// An encrypted Secret is decrypted whether it comes from a plain
// directory or through a kustomize build (which sees only ciphertext);
// without the key, or without a Decrypter, it is a refusal naming the
// file, never ciphertext passed on.
func TestEncryptedSecrets(t *testing.T) {
	keys, recipient := ageKey(t)
	other, _ := ageKey(t)
	enc, err := sopstest.EncryptYAML([]byte(secretPlain), sopstest.Options{AgeRecipients: []string{recipient}, EncryptedRegex: "^(data|stringData)$"})
	require.NoError(t, err)

	trees := map[string]fstest.MapFS{
		"plain":     {"team/secret.yaml": {Data: enc}},
		"kustomize": {"team/kustomization.yaml": file("resources: [secret.yaml]\n"), "team/secret.yaml": {Data: enc}},
	}
	for name, tree := range trees {
		t.Run(name, func(t *testing.T) {
			r := newRenderer(t, func(o *render.Options) { o.Decrypter = decrypt.New(keys, "SOPS_SECRET") })
			objs, err := r.Render(tree, "team")
			require.NoError(t, err)
			require.Len(t, objs, 1)
			assert.NotContains(t, objs[0].Object, "sops")
			pw, _, _ := unstructured.NestedString(objs[0].Object, "stringData", "password")
			assert.Equal(t, "s3cret-in-the-clear", pw)

			for what, d := range map[string]render.Decrypter{
				"another key":  decrypt.New(other, "SOPS_SECRET"),
				"no keys":      decrypt.New(nil, "SOPS_SECRET"),
				"no decrypter": nil,
			} {
				r := newRenderer(t, func(o *render.Options) { o.Decrypter = d })
				_, err := r.Render(tree, "team")
				var re *render.Error
				require.ErrorAs(t, err, &re, what)
				assert.ErrorIs(t, err, render.ErrDecrypt, what)
				want := "team/secret.yaml"
				if name == "kustomize" {
					want = "team/kustomization.yaml" // what a build's objects come from
				}
				assert.Equal(t, want, re.File, what)
				assert.Equal(t, `Secret "db"`, re.Object, what)
				assert.NotContains(t, err.Error(), "s3cret", what)
			}
			r = newRenderer(t, func(o *render.Options) { o.Decrypter = decrypt.New(troubled{}, "SOPS_SECRET") })
			_, err = r.Render(tree, "team")
			var re *render.Error
			require.Error(t, err)
			assert.False(t, errors.As(err, &re), "keys that cannot be read are trouble, not a refusal: %v", err)
		})
	}
}
