package render_test

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/sync/decrypt"
	"github.com/syncgate/syncgate/sync/render"
	"github.com/syncgate/syncgate/testing/sopstest"
)

// countingSource counts the times the keys are read.
type countingSource struct {
	keySource
	reads *int
}

func (s countingSource) Keys(ctx context.Context) (*decrypt.Keys, error) {
	*s.reads++
	return s.keySource.Keys(ctx)
}

// secretFor is secretPlain named name, encrypted for recipients.
func secretFor(t *testing.T, name string, recipients ...string) []byte {
	enc, err := sopstest.EncryptYAML([]byte(strings.Replace(secretPlain, "name: db", "name: "+name, 1)),
		sopstest.Options{AgeRecipients: recipients, EncryptedRegex: "^(data|stringData)$"})
	require.NoError(t, err)
	return enc
}

// A Secret whose sops section holds thousands of age keys ahead of the
// one that opens it is refused, naming its file, before the keys are
// even read: none is tried.
func TestACrowdedSopsSectionIsRefusedBeforeAnyKeyIsTried(t *testing.T) {
	keys, mine := ageKey(t)
	_, other := ageKey(t)
	crowded, err := sopstest.Crowd(secretFor(t, "db", other, mine), 1700, "")
	require.NoError(t, err)
	reads := 0
	r := newRenderer(t, func(o *render.Options) { o.Decrypter = decrypt.New(countingSource{keys, &reads}, "SOPS_SECRET") })

	_, err = r.Render(fstest.MapFS{"team/secret.yaml": {Data: crowded}}, "team")
	var re *render.Error
	require.ErrorAs(t, err, &re)
	assert.ErrorIs(t, err, render.ErrTooLarge)
	assert.ErrorIs(t, err, render.ErrDecrypt)
	assert.Equal(t, "team/secret.yaml", re.File)
	assert.Equal(t, `Secret "db"`, re.Object)
	assert.Contains(t, err.Error(), "more than the limit of 256")
	assert.Zero(t, reads, "no key read, none tried")
}

// Limits.KeyAttempts bounds the private-key operations that fail over the
// render: Secrets whose sops sections label fifteen master keys with the
// offered key's recipient, the one that opens it last, pay fourteen each
// and the third is refused; under their own recipients they cost none.
func TestKeyAttemptsBoundTheRender(t *testing.T) {
	keys, mine := ageKey(t)
	_, other := ageKey(t)
	tree := func(label string) fstest.MapFS {
		tree := fstest.MapFS{}
		for _, name := range []string{"a", "b", "c"} {
			doc, err := sopstest.Crowd(secretFor(t, name, other, mine), 14, label)
			require.NoError(t, err)
			tree["team/"+name+".yaml"] = &fstest.MapFile{Data: doc}
		}
		return tree
	}
	r := newRenderer(t, func(o *render.Options) {
		o.Decrypter = decrypt.New(keys, "SOPS_SECRET")
		o.Limits.KeyAttempts = 40
	})
	objs, err := r.Render(tree(""), "team")
	require.NoError(t, err)
	require.Len(t, objs, 3)

	_, err = r.Render(tree(mine), "team")
	var re *render.Error
	require.ErrorAs(t, err, &re)
	assert.ErrorIs(t, err, render.ErrTooMany)
	assert.Equal(t, "team/c.yaml", re.File)
	assert.Contains(t, err.Error(), "past the limit of 40 private-key operations that fail")

	r = newRenderer(t, func(o *render.Options) { o.Decrypter = decrypt.New(keys, "SOPS_SECRET") })
	objs, err = r.Render(tree(mine), "team")
	require.NoError(t, err, "within the default limit")
	require.Len(t, objs, 3)
}

// A KeyBudget is charged the operations that fail: n when a try fails,
// n-1 when its last opens the data key. A try it has no room for to fail
// does not run, nor one past its bound of data keys opened.
func TestKeyBudgetChargesWhatFails(t *testing.T) {
	b := render.NewKeyBudget(10, 1000, 3)
	ran := 0
	try := func(n int, opens bool) error { return b.Try(n, n, func() bool { ran++; return opens }) }
	require.NoError(t, try(1, true))
	require.NoError(t, try(3, true))
	require.NoError(t, try(4, false))
	assert.Equal(t, 6, b.Spent())
	assert.Equal(t, 3, ran)

	err := try(5, true)
	require.ErrorIs(t, err, render.ErrTooMany)
	assert.Contains(t, err.Error(), "past the limit of 10 private-key operations that fail")
	assert.Equal(t, 3, ran, "refused before it runs")

	require.NoError(t, try(1, true))
	err = try(1, true)
	require.ErrorIs(t, err, render.ErrTooMany)
	assert.Contains(t, err.Error(), "past 3 data keys opened")
	assert.Equal(t, 4, ran)
	assert.Equal(t, 6, b.Spent())
}
