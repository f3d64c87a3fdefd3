package provider

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCommitURL(t *testing.T) {
	const sha = "0123456789abcdef0123456789abcdef01234567"
	for _, tc := range []struct{ repo, forge, want string }{
		{"https://github.com/team/config.git", GitHub, "https://github.com/team/config/commit/" + sha},
		{"https://x-access-token:secret@github.com/team/config", GitHub, "https://github.com/team/config/commit/" + sha},
		{"git@github.com:team/config.git", GitHub, "https://github.com/team/config/commit/" + sha},
		{"ssh://git@gitlab.example.com:2222/group/sub/config.git", GitLab, "https://gitlab.example.com/group/sub/config/-/commit/" + sha},
		{"http://gitea.local:3000/team/config.git", GitHub, "http://gitea.local:3000/team/config/commit/" + sha},
		{"https://gitlab.com/group/config.git", None, ""},
		{"https://gitlab.com/config.git", GitLab, ""},
	} {
		t.Run(tc.repo, func(t *testing.T) {
			f := CommitURL(tc.repo, tc.forge)
			if tc.want == "" {
				require.Nil(t, f)
				return
			}
			require.NotNil(t, f)
			require.Equal(t, tc.want, f(sha))
		})
	}
}
