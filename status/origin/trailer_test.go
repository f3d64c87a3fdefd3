package origin_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/status/origin"
)

const (
	sha1 = "0123456789abcdef0123456789abcdef01234567"
	sha2 = "89abcdef0123456789abcdef0123456789abcdef"
)

func TestParse(t *testing.T) {
	msg := "Deploy web 1.2.0 to prod/web\n\nBumped by CI.\n\n" +
		"Syncgate-Origin: acme/web@" + sha1 + "\n" +
		"syncgate-origin:   https://gitlab.example.com/platform/team/api.git@" + sha2 + "  \n" +
		"Syncgate-Origin: git@github.com:acme/worker.git@" + sha2 + "\n" +
		"Syncgate-Origin: acme/web@" + sha1 + "\n" + // repeated
		"Syncgate-Origin: acme/web@abc1234\n" + // short sha
		"Syncgate-Origin: https://user:secret@github.com/acme/x@" + sha1 + "\n" +
		"Syncgate-Origin: web@" + sha1 + "\n" +
		"Signed-off-by: ci <ci@example.com>\n"
	refs, errs := origin.Parse(msg)
	require.Equal(t, []string{
		"acme/web@" + sha1,
		"https://gitlab.example.com/platform/team/api.git@" + sha2,
		"git@github.com:acme/worker.git@" + sha2,
	}, origin.Strings(refs))
	require.Len(t, errs, 3)
	require.ErrorContains(t, errs[0], "not a full commit sha")
	require.ErrorContains(t, errs[1], "no credentials")
	require.NotContains(t, errs[1].Error(), "secret")
	require.ErrorContains(t, errs[2], "names no owner/name")

	for _, tc := range []struct{ ref, host, project string }{
		{"acme/web@" + sha1, "", "acme/web"},
		{"https://gitlab.example.com/platform/team/api.git@" + sha2, "gitlab.example.com", "platform/team/api"},
		{"git@github.com:acme/worker.git@" + sha2, "github.com", "acme/worker"},
		{"ssh://git@GitHub.com:22/acme/x@" + sha2, "github.com", "acme/x"},
	} {
		r, err := origin.ParseRef(tc.ref)
		require.NoError(t, err, tc.ref)
		require.Equal(t, tc.host, r.Host(), tc.ref)
		require.Equal(t, tc.project, r.Project(), tc.ref)
	}
	refs, _ = origin.Parse("")
	require.Empty(t, refs)
}

func TestParseIsBounded(t *testing.T) {
	msg := ""
	for i := range origin.MaxPerCommit + 5 {
		msg += "Syncgate-Origin: acme/app" + string(rune('a'+i)) + "@" + sha1 + "\n"
	}
	refs, _ := origin.Parse(msg)
	require.Len(t, refs, origin.MaxPerCommit)
}
