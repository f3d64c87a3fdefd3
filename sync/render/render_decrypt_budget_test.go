package render_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/sync/decrypt"
	"github.com/syncgate/syncgate/sync/render"
	"github.com/syncgate/syncgate/testing/sopstest"
)

// A namespace of Secrets SOPS wrote for the offered keys renders with
// the default Limits however many there are: only the private-key
// operations that fail are taken from Limits.KeyAttempts, and an age key
// is tried with the identity it names first.
func TestEncryptedSecretsOfAnOrdinaryRepositoryRender(t *testing.T) {
	ageIDs := func(n int) (*decrypt.Keys, []string) {
		data := map[string][]byte{}
		var recipients []string
		for i := range n {
			id, recipient, err := sopstest.AgeKey()
			require.NoError(t, err)
			data[fmt.Sprintf("%d.agekey", i)] = []byte(id)
			recipients = append(recipients, recipient)
		}
		keys, err := decrypt.ParseKeys(data)
		require.NoError(t, err)
		return keys, recipients
	}
	// entries is a Secret of n data entries, each a SOPS YAML file.
	entries := func(name string, n int, recipient string) []byte {
		var b strings.Builder
		fmt.Fprintf(&b, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\ndata:\n", name)
		for i := range n {
			enc, err := sopstest.EncryptYAML([]byte(fmt.Sprintf("password: s3cret-%d\n", i)), sopstest.Options{AgeRecipients: []string{recipient}})
			require.NoError(t, err)
			fmt.Fprintf(&b, "  file%d.yaml: %s\n", i, base64.StdEncoding.EncodeToString(enc))
		}
		return []byte(b.String())
	}
	oneKey, one := ageIDs(1)
	rotated, two := ageIDs(2)
	for name, c := range map[string]struct {
		keys    *decrypt.Keys
		secrets int
		secret  func(name string) []byte
	}{
		"513 Secrets for the one age key": {oneKey, 513, func(name string) []byte { return secretFor(t, name, one[0]) }},
		// the keys Secret holds the key before a rotation, tried first
		// in name order, and the one the Secrets are encrypted for.
		"300 Secrets, two age identities offered": {rotated, 300, func(name string) []byte { return secretFor(t, name, two[1]) }},
		"100 Secrets of 6 encrypted files each":   {oneKey, 100, func(name string) []byte { return entries(name, 6, one[0]) }},
	} {
		t.Run(name, func(t *testing.T) {
			tree := fstest.MapFS{}
			for i := range c.secrets {
				name := fmt.Sprintf("s%03d", i)
				tree["team/"+name+".yaml"] = &fstest.MapFile{Data: c.secret(name)}
			}
			r := newRenderer(t, func(o *render.Options) { o.Decrypter = decrypt.New(keySource{c.keys}, "SOPS_SECRET") })
			objs, err := r.Render(tree, "team")
			require.NoError(t, err)
			require.Len(t, objs, c.secrets)
		})
	}
}

// One creation rule naming the agent's age key and a team's puts them in
// one key group of 17 master keys: the Secret decrypts.
func TestASecretForManyRecipientsDecrypts(t *testing.T) {
	keys, mine := ageKey(t)
	recipients := []string{mine}
	for range 16 {
		_, other := ageKey(t)
		recipients = append(recipients, other)
	}
	doc := secretFor(t, "db", recipients...)
	r := newRenderer(t, func(o *render.Options) { o.Decrypter = decrypt.New(keys, "SOPS_SECRET") })
	objs, err := r.Render(fstest.MapFS{"team/secret.yaml": {Data: doc}}, "team")
	require.NoError(t, err)
	require.Len(t, objs, 1)
	require.NotContains(t, objs[0].Object, "sops")
}
