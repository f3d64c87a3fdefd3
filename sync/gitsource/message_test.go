package gitsource_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/sync/gitsource"
)

func TestMessage(t *testing.T) {
	u := newUpstream(t)
	msg := "Deploy web 1.2.0\n\nSyncgate-Origin: acme/web@0123456789abcdef0123456789abcdef01234567"
	sha := u.commit(msg, map[string]string{"a.yaml": "a: 1\n"})
	long := u.commit("subject\n\n"+strings.Repeat("x", gitsource.MaxMessage)+"\nSyncgate-Origin: end", map[string]string{"a.yaml": "a: 2\n"})
	src := newSource(t, gitsource.Options{URL: u.url()})
	syncTo(t, src, long)

	got, err := src.Message(sha)
	require.NoError(t, err)
	require.Equal(t, msg+"\n", got)
	got, err = src.Message(long)
	require.NoError(t, err)
	require.Len(t, got, gitsource.MaxMessage)
	require.True(t, strings.HasSuffix(got, "\nSyncgate-Origin: end\n"), "the end, where trailers are, is kept")
	_, err = src.Message("0123456789abcdef0123456789abcdef01234567")
	require.True(t, errors.Is(err, gitsource.ErrUnknownRevision), "%v", err)
}
