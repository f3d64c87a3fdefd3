package repourl_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/repourl"
)

func TestParse(t *testing.T) {
	cases := []struct {
		in                       string
		scheme, host, port, path string
		project, key, user       string
		scp, password            bool
	}{
		{in: "https://gitlab.com/group/sub/project.git", scheme: "https", host: "gitlab.com", path: "/group/sub/project.git", project: "group/sub/project", key: "gitlab.com/group/sub/project"},
		{in: "https://oauth2:tok@GitLab.Example.com/x/y/z/", scheme: "https", host: "gitlab.example.com", path: "/x/y/z/", project: "x/y/z", key: "gitlab.example.com/x/y/z", user: "oauth2", password: true},
		{in: "ssh://git@gitlab.example.com:2222/a/b.git", scheme: "ssh", host: "gitlab.example.com", port: "2222", path: "/a/b.git", project: "a/b", key: "gitlab.example.com/a/b", user: "git"},
		{in: "git@github.com:Example/Config.git", scheme: "ssh", scp: true, host: "github.com", path: "Example/Config.git", project: "Example/Config", key: "github.com/example/config", user: "git"},
		{in: "gitlab.com:group/project", scheme: "ssh", scp: true, host: "gitlab.com", path: "group/project", project: "group/project", key: "gitlab.com/group/project"},
		{in: "git@host:/srv/git/config.git", scheme: "ssh", scp: true, host: "host", path: "/srv/git/config.git", project: "srv/git/config", key: "host/srv/git/config", user: "git"},
		{in: "file:///srv/git/config", scheme: "file", path: "/srv/git/config", project: "srv/git/config", key: "/srv/git/config"},
		{in: " HTTPS://github.com/example/config/ ", scheme: "https", host: "github.com", path: "/example/config/", project: "example/config", key: "github.com/example/config"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			u, err := repourl.Parse(tc.in)
			require.NoError(t, err)
			require.Equal(t, tc.scheme, u.Scheme)
			require.Equal(t, tc.scp, u.SCP)
			require.Equal(t, tc.host, u.Host)
			require.Equal(t, tc.port, u.Port)
			require.Equal(t, tc.path, u.Path)
			require.Equal(t, tc.project, u.Project())
			require.Equal(t, tc.key, u.Key())
			require.Equal(t, tc.password, u.HasPassword())
			if tc.user == "" {
				require.Nil(t, u.User)
			} else {
				require.Equal(t, tc.user, u.User.Username())
			}
		})
	}
}

// What git would not take for a remote is refused, in one line that holds
// no credentials.
func TestParseRefuses(t *testing.T) {
	for _, in := range []string{
		"/srv/git/config", // a local path
		"config",          // a bare name
		"dir/x:y",         // a slash before the colon: a path
		"git@host:",       // no path
		"https://x-access-token:ghp_topsecret%zz@github.com/example/config.git",
		"",
	} {
		_, err := repourl.Parse(in)
		require.Error(t, err, in)
		require.NotContains(t, err.Error(), "topsecret")
		require.NotContains(t, err.Error(), "\n")
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"https://bot:url-password@example.com/config.git": "https://example.com/config.git",
		"https://ghp_topsecret@github.com/example/config": "https://github.com/example/config",
		"git@example.com:config.git":                      "git@example.com:config.git",
		"not a url //user:pw@host/x":                      "not a url //host/x", // credentials go even where the URL does not parse
		"https://x:ghp_topsecret%zz@github.com/c.git":     "https://github.com/c.git",
		"https://github.com/example/config.git":           "https://github.com/example/config.git",
	} {
		require.Equal(t, want, repourl.Redact(in), in)
	}
}
