package main

import (
	"fmt"
	"io"
	"maps"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/require"
)

func parseWith(t *testing.T, env map[string]string, args ...string) (*config, error) {
	t.Helper()
	return parseIn(t, "", env, args...)
}

// with is base with the variables of over set on top.
func with(base, over map[string]string) map[string]string {
	env := maps.Clone(base)
	maps.Copy(env, over)
	return env
}

// requireOneLine wants err to be one line holding want, and no secret.
func requireOneLine(t *testing.T, err error, want string) {
	t.Helper()
	require.Error(t, err)
	require.Contains(t, err.Error(), want)
	require.NotContains(t, err.Error(), "topsecret")
	require.NotContains(t, err.Error(), "\n")
}

// bindOnly binds the settings to a flag set with only variable k set, to v.
func bindOnly(k, v string) (*pflag.FlagSet, *settings) {
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	return fs, bindSettings(fs, func(key string) (string, bool) {
		if key == k {
			return v, true
		}
		return "", false
	})
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
	require.EqualValues(t, 8, c.ApplyingAtOnce)
	c, err = parseWith(t, with(env, map[string]string{"APPLY_NAMESPACES_AT_ONCE": "32"}), "--interval", "2m", "--health-timeout", "90s")
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
	require.EqualValues(t, 32, c.ApplyingAtOnce)

	c, err = parseWith(t, env)
	require.NoError(t, err)
	require.Equal(t, 30*time.Second, c.PollInterval, "bare seconds, as git-sync-operator took them")
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
		{"bad deployments", map[string]string{"DEPLOYMENTS": "yes"}, `invalid setting DEPLOYMENTS (--deployments): "yes" is not github, gitlab or off`},
		{"bad environment template", map[string]string{"DEPLOYMENT_ENVIRONMENT": "{{.Team}}"}, "invalid setting DEPLOYMENT_ENVIRONMENT (--deployment-environment)"},
		{"bad environment URL template", map[string]string{"DEPLOYMENT_ENVIRONMENT_URL": "https://{{.Cluster"}, "invalid setting DEPLOYMENT_ENVIRONMENT_URL (--deployment-environment-url)"},
		{"bad origin reports", map[string]string{"ORIGIN_REPORTS": "sometimes"}, "ORIGIN_REPORTS"},
		{"half an app", map[string]string{"GITHUB_APP_ID": "12"}, "GITHUB_APP_ID"},
		{"missing key file", map[string]string{"GIT_SSH_KEY": "/nonexistent/key"}, "GIT_SSH_KEY"},
		{"bad api url", map[string]string{"GITHUB_API_URL": "ghe.example.com"}, "GITHUB_API_URL"},
		{"prefix without bucket", map[string]string{"S3_PREFIX": "x"}, "S3_BUCKET"},
		{"bad log format", map[string]string{"LOG_FORMAT": "xml"}, "LOG_FORMAT"},
		{"bad health rule", map[string]string{"HEALTH_RULES": "- {apiVersion: example.dev/v1, kind: Certificate, current: \"status.conditions.exists(c, \"}"}, "invalid setting HEALTH_RULES (--health-rules): rule 1 (example.dev/v1 Certificate): current: "},
		{"bad sops secret", map[string]string{"SOPS_SECRET": "Keys/x/y"}, "invalid setting SOPS_SECRET (--sops-secret)"},
		{"commit url without sha", map[string]string{"COMMIT_URL": "https://git.example.com/c/commit/"}, "invalid setting COMMIT_URL (--commit-url)"},
		{"commit url not http", map[string]string{"COMMIT_URL": "git.example.com/c/{sha}"}, "COMMIT_URL"},
		{"debug listener on every address", map[string]string{"DEBUG_ADDR": ":6060"}, "invalid setting DEBUG_ADDR (--debug-addr)"},
		{"debug listener on a pod address", map[string]string{"DEBUG_ADDR": "10.0.0.7:6060"}, "not a loopback address"},
		{"lease duration not in whole seconds", map[string]string{"LEASE_DURATION": "4500ms"}, "invalid setting LEASE_DURATION (--lease-duration): whole seconds, as a Lease holds it"},
		{"no namespace may apply", map[string]string{"APPLY_NAMESPACES_AT_ONCE": "0"}, "invalid setting APPLY_NAMESPACES_AT_ONCE (--apply-namespaces-at-once): at least 1"},
		{"namespaces at once not a number", map[string]string{"APPLY_NAMESPACES_AT_ONCE": "many"}, "APPLY_NAMESPACES_AT_ONCE"},
		{"listen address not host:port", map[string]string{"LISTEN_ADDR": "garbage"}, `invalid setting LISTEN_ADDR (--listen): "garbage" is not host:port`},
		{"listen port out of range", map[string]string{"LISTEN_ADDR": ":99999"}, `invalid setting LISTEN_ADDR (--listen): ":99999": the port is not a number from 0 to 65535`},
		{"probe address a bare port", map[string]string{"PROBE_ADDR": "8081"}, "invalid setting PROBE_ADDR (--probe-addr)"},
		{"debug port not a number", map[string]string{"DEBUG_ADDR": "127.0.0.1:pprof"}, "invalid setting DEBUG_ADDR (--debug-addr)"},
		{"no requests per second", map[string]string{"KUBE_API_QPS": "0"}, "invalid setting KUBE_API_QPS (--kube-api-qps): at least 1"},
		{"no request burst", map[string]string{"KUBE_API_BURST": "0"}, "invalid setting KUBE_API_BURST (--kube-api-burst): at least 1"},
		{"seconds overflowing a duration", map[string]string{"GIT_SYNC_INTERVAL": "20000000000"}, `invalid setting GIT_SYNC_INTERVAL (--interval): "20000000000" is more than 8760h (a year)`},
		{"negative seconds overflowing a duration", map[string]string{"GIT_SYNC_INTERVAL": "-20000000000"}, `"-20000000000" is not a positive number of seconds`},
		{"a duration past the cap", map[string]string{"MAX_WAIT_TIMEOUT": "2562047h"}, `invalid setting MAX_WAIT_TIMEOUT (--max-wait-timeout): "2562047h" is more than 8760h (a year)`},
		{"seconds past the cap", map[string]string{"HEALTH_TIMEOUT": "31536001"}, "invalid setting HEALTH_TIMEOUT (--health-timeout)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseWith(t, with(base, tc.env))
			requireOneLine(t, err, tc.want)
		})
	}
}

func TestSOPSSecretDefaultsToSyncgatesNamespace(t *testing.T) {
	env := map[string]string{"CONFIG_REPO": "https://git.example.com/c.git", "CLUSTER_NAME": "c1", "MANAGED_NAMESPACES": "a", "POD_NAMESPACE": "syncgate", "SOPS_SECRET": "sops-keys"}
	c, err := parseWith(t, env)
	require.NoError(t, err)
	require.Equal(t, "syncgate/sops-keys", c.SOPSSecret)
	c, err = parseWith(t, env, "--sops-secret", "keys/age")
	require.NoError(t, err)
	require.Equal(t, "keys/age", c.SOPSSecret)
}

func TestSecretsAreNotShownInHelp(t *testing.T) {
	fs, vals := bindOnly("GITHUB_TOKEN", "ghp_topsecret")
	require.NotContains(t, fs.FlagUsages(), "ghp_topsecret")
	c, err := vals.load()
	require.NoError(t, err)
	require.Equal(t, "ghp_topsecret", c.GitHubToken)
}

// parseIn reads settings as `syncgate run` does: flags parsed, the
// environment applied, the result checked.
func parseIn(t *testing.T, ownNamespace string, env map[string]string, args ...string) (*config, error) {
	t.Helper()
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	vals := bindSettings(fs, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err := fs.Parse(args); err != nil {
		return nil, flagError(err)
	}
	c, err := vals.load()
	if err != nil {
		return nil, err
	}
	return c, c.check(ownNamespace)
}

// Settings that would hand syncgate's credentials to others stop start-up
// with one line naming the setting that allows them, and no secret.
func TestExposingSettingsAreRefused(t *testing.T) {
	base := map[string]string{"CONFIG_REPO": "https://github.com/example/config.git", "CLUSTER_NAME": "c1", "MANAGED_NAMESPACES": "app"}
	cases := []struct {
		name string
		own  string // the pod's namespace
		env  map[string]string
		want string // "" when accepted
	}{
		{"own namespace named", "syncgate", map[string]string{"MANAGED_NAMESPACES": "app,syncgate"}, "ALLOW_OWN_NAMESPACE"},
		{"own namespace by default", "syncgate", map[string]string{"MANAGED_NAMESPACES": ""}, "ALLOW_OWN_NAMESPACE"},
		{"own namespace allowed", "syncgate", map[string]string{"MANAGED_NAMESPACES": "", "ALLOW_OWN_NAMESPACE": "true"}, ""},
		{"other namespaces", "syncgate", nil, ""},
		{"git token over http", "", map[string]string{"CONFIG_REPO": "http://git.example.com/config.git", "GIT_TOKEN": "ghp_topsecret"}, "ALLOW_INSECURE_HTTP"},
		{"token user over http", "", map[string]string{"CONFIG_REPO": "http://ghp_topsecret0123456789abcd@git.example.com/config.git"}, "ALLOW_INSECURE_HTTP"},
		{"public repo over http", "", map[string]string{"CONFIG_REPO": "http://git.example.com/config.git"}, ""},
		{"git token to the loopback", "", map[string]string{"CONFIG_REPO": "http://127.0.0.1:3000/config.git", "GIT_TOKEN": "ghp_topsecret"}, ""},
		{"git token over http allowed", "", map[string]string{"CONFIG_REPO": "http://git.example.com/config.git", "GIT_TOKEN": "ghp_topsecret", "ALLOW_INSECURE_HTTP": "true"}, ""},
		{"forge token over http", "", map[string]string{"GITHUB_API_URL": "http://ghe.example.com/api/v3/", "GITHUB_TOKEN": "ghp_topsecret"}, "GITHUB_API_URL"},
		{"gitlab token over http", "", map[string]string{"GITLAB_URL": "http://gitlab.example.com", "GITLAB_TOKEN": "glpat-topsecret"}, "GITLAB_URL"},
		{"forge fake on the loopback", "", map[string]string{"GITHUB_API_URL": "http://[::1]:8443/", "GITHUB_TOKEN": "ghp_topsecret"}, ""},
		{"s3 over http", "", map[string]string{"S3_BUCKET": "markers", "S3_ENDPOINT": "http://minio.storage:9000"}, "S3_ENDPOINT"},
		{"s3 on localhost", "", map[string]string{"S3_BUCKET": "markers", "S3_ENDPOINT": "http://localhost:9000"}, ""},
		{"credentials in an endpoint", "", map[string]string{"S3_BUCKET": "markers", "S3_ENDPOINT": "https://AKIA:topsecret@minio.example.com"}, "S3_ENDPOINT"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseIn(t, tc.own, with(base, tc.env))
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			requireOneLine(t, err, tc.want)
		})
	}
}

// A repo URL's credentials are shown nowhere: not in a start-up error,
// not in --help.
func TestRepoCredentialsAreNotShown(t *testing.T) {
	for _, repo := range []string{
		"https://x-access-token:ghp_topsecret%zz@github.com/example/config.git", // not a URL
		"ftp://x-access-token:ghp_topsecret@github.com/example/config.git",      // a bad scheme
		"https://x-access-token:ghp_topsecret@github.com/example/config.git",    // a password
	} {
		_, err := parseWith(t, map[string]string{"CONFIG_REPO": repo, "CLUSTER_NAME": "c1", "MANAGED_NAMESPACES": "app"})
		require.Error(t, err)
		require.Contains(t, err.Error(), "CONFIG_REPO")
		require.NotContains(t, err.Error(), "topsecret", repo)
	}
	fs, vals := bindOnly("CONFIG_REPO", "https://ghp_topsecret@github.com/example/config.git")
	require.NotContains(t, fs.FlagUsages(), "topsecret")
	require.Contains(t, fs.FlagUsages(), "https://github.com/example/config.git")
	c, err := vals.load()
	require.NoError(t, err)
	require.Equal(t, "https://ghp_topsecret@github.com/example/config.git", c.Repo, "the value itself is kept")
}

// A bad flag stops start-up with the same line as a bad variable, before
// anything runs; a flag still takes its value as the next argument.
func TestBadFlagsStopStartupWithOneLine(t *testing.T) {
	base := map[string]string{"CONFIG_REPO": "https://git.example.com/c.git", "CLUSTER_NAME": "c1", "MANAGED_NAMESPACES": "a"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--prune=maybe"}, `invalid setting PRUNE (--prune): "maybe" is not true or false`},
		{[]string{"--health-timeout", "soon"}, `invalid setting HEALTH_TIMEOUT (--health-timeout): "soon" is not a positive number of seconds or a Go duration`},
		{[]string{"--drift-interval=-1s"}, "invalid setting DRIFT_INTERVAL (--drift-interval)"},
		{[]string{"--kube-api-qps=-3"}, `invalid setting KUBE_API_QPS (--kube-api-qps): "-3" is not a number`},
	} {
		_, err := parseWith(t, base, tc.args...)
		requireOneLine(t, err, tc.want)
	}

	cmd := newRunCmd()
	cmd.SetArgs([]string{"--leader-elect=perhaps"})
	cmd.SetOut(io.Discard)
	cmd.SilenceErrors = true // as under the root command
	err := cmd.Execute()
	var ex *exitError
	require.ErrorAs(t, err, &ex)
	require.Equal(t, exitUsage, ex.code)
	require.Equal(t, `invalid setting LEADER_ELECT (--leader-elect): "perhaps" is not true or false`, ex.msg)

	c, err := parseWith(t, with(base, map[string]string{"PRUNE": "true", "DRIFT_INTERVAL": "0"}),
		"--prune", "false", "--namespaces", "b, c")
	require.NoError(t, err)
	require.False(t, c.Prune, "the flag wins over the variable")
	require.Zero(t, c.DriftInterval, "0 turns drift correction off")
	require.Equal(t, []string{"b", "c"}, c.Namespaces)
}

// Every setting fills a field of its own under a flag and a variable of its
// own, so a check names the right one; every built-in default reads.
func TestSettingsAreOnePerField(t *testing.T) {
	c := &config{}
	flags, envs, fields := map[string]bool{}, map[string]bool{}, map[any]bool{}
	for _, s := range c.settings() {
		require.False(t, flags[s.flag], s.flag)
		require.False(t, envs[s.env], s.env)
		require.False(t, fields[s.val.target()], s.flag)
		flags[s.flag], envs[s.env], fields[s.val.target()] = true, true, true
		require.NoError(t, s.val.Set(s.def), s.flag)
		require.Equal(t, fmt.Sprintf("invalid setting %s (--%s): x", s.env, s.flag), c.invalid(s.val.target(), "x").Error())
	}
	require.Equal(t, "invalid setting: x", c.invalid(new(string), "x").Error(), "a field no setting fills")
}

// Without its kustomize build program beside it (this test binary has
// none), `syncgate run` stops at start with one line naming the program.
func TestMissingBuildProgramStopsStartup(t *testing.T) {
	err := startWith(t, map[string]string{"CONFIG_REPO": "https://git.example.com/c.git", "CLUSTER_NAME": "c1",
		"MANAGED_NAMESPACES": "a", "KUBECONFIG": writeKubeconfig(t)})
	requireOneLine(t, err, "the kustomize build program ")
	require.Contains(t, err.Error(), "syncgate-render: not found")
}
