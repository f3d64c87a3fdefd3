package main

import (
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/require"
)

func parseWith(t *testing.T, env map[string]string, args ...string) (*config, error) {
	t.Helper()
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	vals := bindSettings(fs, func(k string) string { return env[k] })
	require.NoError(t, fs.Parse(args))
	return parseConfig(vals, "")
}

func TestConfigFromEnvironmentAndFlags(t *testing.T) {
	env := map[string]string{
		"CONFIG_REPO":        "git@github.com:example/config.git",
		"CLUSTER_NAME":       "prod-eu",
		"MANAGED_NAMESPACES": "web, api,web",
		"GIT_SYNC_INTERVAL":  "30",
		"S3_BUCKET":          "markers",
		"S3_PREFIX":          "/syncgate/",
		"GITHUB_TOKEN":       "ghp_secret",
	}
	c, err := parseWith(t, env, "--interval", "2m", "--health-timeout", "90s")
	require.NoError(t, err)
	require.Equal(t, []string{"web", "api"}, c.Namespaces)
	require.Equal(t, 2*time.Minute, c.PollInterval, "the flag wins over the variable")
	require.Equal(t, 90*time.Second, c.HealthTimeout)
	require.Equal(t, 10*time.Minute, c.DriftInterval)
	require.Equal(t, "syncgate", c.S3Prefix)
	require.Equal(t, "ghp_secret", c.GitHubToken)
	require.True(t, c.Prune)
	require.True(t, c.LeaderElect)
	require.Equal(t, "web", c.LeaseNamespace)

	c, err = parseWith(t, env)
	require.NoError(t, err)
	require.Equal(t, 30*time.Second, c.PollInterval, "bare seconds, as the original operator took them")
}

func TestBadSettingsStopStartupWithOneLine(t *testing.T) {
	base := map[string]string{"CONFIG_REPO": "https://git.example.com/c.git", "CLUSTER_NAME": "c1", "MANAGED_NAMESPACES": "a"}
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no repo", map[string]string{"CONFIG_REPO": ""}, "invalid setting CONFIG_REPO (--repo): required"},
		{"bad scheme", map[string]string{"CONFIG_REPO": "ftp://x/y"}, "CONFIG_REPO"},
		{"token in url", map[string]string{"CONFIG_REPO": "https://u:p@git.example.com/c.git"}, "use GIT_TOKEN"},
		{"no cluster", map[string]string{"CLUSTER_NAME": ""}, "CLUSTER_NAME"},
		{"bad cluster", map[string]string{"CLUSTER_NAME": "Prod_EU"}, "CLUSTER_NAME"},
		{"no namespaces outside a pod", map[string]string{"MANAGED_NAMESPACES": ""}, "MANAGED_NAMESPACES"},
		{"bad namespace", map[string]string{"MANAGED_NAMESPACES": "ok,Not_OK"}, `"Not_OK"`},
		{"bad interval", map[string]string{"GIT_SYNC_INTERVAL": "soon"}, "GIT_SYNC_INTERVAL"},
		{"zero interval", map[string]string{"GIT_SYNC_INTERVAL": "0"}, "GIT_SYNC_INTERVAL"},
		{"bad bool", map[string]string{"PRUNE": "maybe"}, "PRUNE"},
		{"bad provider", map[string]string{"STATUS_PROVIDER": "bitbucket"}, "STATUS_PROVIDER"},
		{"half an app", map[string]string{"GITHUB_APP_ID": "12"}, "GITHUB_APP_ID"},
		{"missing key file", map[string]string{"GIT_SSH_KEY": "/nonexistent/key"}, "GIT_SSH_KEY"},
		{"bad api url", map[string]string{"GITHUB_API_URL": "ghe.example.com"}, "GITHUB_API_URL"},
		{"prefix without bucket", map[string]string{"S3_PREFIX": "x"}, "S3_BUCKET"},
		{"bad log format", map[string]string{"LOG_FORMAT": "xml"}, "LOG_FORMAT"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range base {
				env[k] = v
			}
			for k, v := range tc.env {
				env[k] = v
			}
			_, err := parseWith(t, env)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
			require.NotContains(t, err.Error(), "\n")
		})
	}
}

func TestSecretsAreNotShownInHelp(t *testing.T) {
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	vals := bindSettings(fs, func(k string) string {
		if k == "GITHUB_TOKEN" {
			return "ghp_topsecret"
		}
		return ""
	})
	require.Equal(t, "ghp_topsecret", *vals["github-token"])
	require.NotContains(t, fs.FlagUsages(), "ghp_topsecret")
}
