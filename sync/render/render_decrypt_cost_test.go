package render_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/sync/decrypt"
	"github.com/syncgate/syncgate/sync/render"
	"github.com/syncgate/syncgate/testing/sopstest"
)

// Every private-key operation of a render weighs what its key costs,
// opening a data key or not: Secrets SOPS wrote for an RSA-4096 key take
// 32 units of Limits.KeyCost each, and the one past it is refused, naming
// its file and the limit, before its key is tried. Under the default
// limit (1,000 such files) they render.
func TestKeyCostBoundsTheRender(t *testing.T) {
	k, err := sopstest.NewPGPKeyOf(&packet.Config{RSABits: 4096})
	require.NoError(t, err)
	ring := filepath.Join(t.TempDir(), "pubring.gpg")
	require.NoError(t, sopstest.WritePubRing(ring, k))
	keys, err := decrypt.ParseKeys(map[string][]byte{"ops.asc": k.Armored})
	require.NoError(t, err)
	tree := fstest.MapFS{}
	for _, name := range []string{"a", "b", "c", "d"} {
		doc := strings.Replace(secretPlain, "name: db", "name: "+name, 1)
		enc, err := sopstest.EncryptYAML([]byte(doc), sopstest.Options{PGPFingerprints: []string{k.Fingerprint}, PubRing: ring, EncryptedRegex: "^(data|stringData)$"})
		require.NoError(t, err)
		tree["team/"+name+".yaml"] = &fstest.MapFile{Data: enc}
	}
	limit := 4*render.KeyCostRSA(4096) - 1
	r := newRenderer(t, func(o *render.Options) {
		o.Decrypter = decrypt.New(keySource{keys}, "SOPS_SECRET")
		o.Limits.KeyCost = limit
	})
	_, err = r.Render(tree, "team")
	var re *render.Error
	require.ErrorAs(t, err, &re)
	assert.ErrorIs(t, err, render.ErrTooMany)
	assert.ErrorIs(t, err, render.ErrDecrypt)
	assert.Equal(t, "team/d.yaml", re.File)
	assert.Contains(t, err.Error(), fmt.Sprintf("past its limit of %d units of private-key work (render.Limits.KeyCost; 96 spent", limit))
	assert.Contains(t, err.Error(), "32 with RSA-4096")

	r = newRenderer(t, func(o *render.Options) { o.Decrypter = decrypt.New(keySource{keys}, "SOPS_SECRET") })
	objs, err := r.Render(tree, "team")
	require.NoError(t, err, "within the default limit")
	require.Len(t, objs, 4)
}
