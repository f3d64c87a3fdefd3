package main

import (
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/syncgate/syncgate/sync/gitsource"
)

// config is everything `syncgate run` is told, from flags or their
// environment variables (the variable wins over the built-in default, the
// flag over the variable).
type config struct {
	Repo          string
	Branch        string
	Namespaces    []string
	Cluster       string
	PollInterval  time.Duration
	CacheDir      string
	HealthTimeout time.Duration
	DriftInterval time.Duration
	Prune         bool

	AllowNamespaces    []string
	AllowClusterScoped bool
	AllowOwnNamespace  bool
	AllowInsecureHTTP  bool
	// ApplyServiceAccount is who namespace ns is applied as:
	// system:serviceaccount:ns:<name>; empty is syncgate itself.
	ApplyServiceAccount string

	GitToken, GitUsername    string
	GitSSHKey, GitKnownHosts string
	GitInsecureIgnoreHostKey bool

	S3Bucket, S3Prefix, S3Endpoint, S3Region string

	StatusProvider          string
	GitHubToken             string
	GitHubAppID             int64
	GitHubAppInstallationID int64
	GitHubAppPrivateKeyFile string
	GitHubAPIURL            string
	GitLabToken, GitLabURL  string

	WebhookSecret  string
	WaitToken      string
	ListenAddr     string
	ProbeAddr      string
	PublicURL      string
	MaxWaitTimeout time.Duration
	// WaitFetchInterval paces the fetches /wait and /status make for shas
	// syncgate does not know; never longer than PollInterval.
	WaitFetchInterval time.Duration

	Kubeconfig     string
	KubeQPS        int64
	KubeBurst      int64
	LeaderElect    bool
	LeaseNamespace string
	PodName        string
	LogLevel       string
	LogFormat      string
}

// setting is one flag with its environment variable.
type setting struct {
	flag, env, def, usage string
	secret                bool
}

var settings = []setting{
	{"repo", "CONFIG_REPO", "", "config repo URL: https://, ssh://, scp-like or file:// (required)", false},
	{"branch", "CONFIG_BRANCH", "", "branch to follow (default: the remote's HEAD)", false},
	{"namespaces", "MANAGED_NAMESPACES", "", "comma-separated namespaces to manage (default: the pod's own namespace)", false},
	{"cluster", "CLUSTER_NAME", "", "this cluster's name, used in repo paths and S3 keys (required)", false},
	{"interval", "GIT_SYNC_INTERVAL", "60s", "poll interval: seconds (60) or a Go duration (1m)", false},
	{"cache-dir", "CACHE_DIR", "", "where the repo clone is kept (default: a directory under the OS temp dir)", false},
	{"health-timeout", "HEALTH_TIMEOUT", "5m", "how long a rollout may take before the commit is failed", false},
	{"drift-interval", "DRIFT_INTERVAL", "10m", "how often live objects are compared with the applied commit; 0 turns it off", false},
	{"prune", "PRUNE", "true", "delete objects syncgate applied that a newer commit no longer has", false},
	{"allow-namespaces", "ALLOW_NAMESPACES", "", "comma-separated foreign namespaces objects may name", false},
	{"allow-cluster-scoped", "ALLOW_CLUSTER_SCOPED", "false", "allow cluster-scoped objects (CRDs, ClusterRoles, ...) in the repo", false},
	{"apply-service-account", "APPLY_SERVICE_ACCOUNT", "syncgate", "ServiceAccount of each managed namespace that syncgate applies, prunes and reads it as (impersonation); empty (--apply-service-account=) applies as syncgate itself, not confined", false},
	{"git-token", "GIT_TOKEN", "", "HTTPS token for the config repo", true},
	{"git-username", "GIT_USERNAME", "", "HTTPS user for GIT_TOKEN (default per provider convention)", false},
	{"git-ssh-key", "GIT_SSH_KEY", "", "path of the SSH private key for the config repo", false},
	{"git-known-hosts", "GIT_KNOWN_HOSTS", "", "path of the known_hosts file that SSH host keys are checked against", false},
	{"git-insecure-ignore-host-key", "GIT_INSECURE_IGNORE_HOST_KEY", "false", "accept any SSH host key (unsafe; for tests)", false},
	{"s3-bucket", "S3_BUCKET", "", "bucket for deployment markers (markers off when empty)", false},
	{"s3-prefix", "S3_PREFIX", "", "key prefix for markers", false},
	{"s3-endpoint", "S3_ENDPOINT", "", "S3-compatible endpoint URL (path-style addressing)", false},
	{"s3-region", "AWS_REGION", "", "S3 region (default from the AWS SDK's chain, else us-east-1)", false},
	{"status-provider", "STATUS_PROVIDER", "", "commit statuses: github, gitlab or none (default: from the repo host)", false},
	{"github-token", "GITHUB_TOKEN", "", "GitHub token for commit statuses", true},
	{"github-app-id", "GITHUB_APP_ID", "0", "GitHub App id (with installation id and key file, instead of a token)", false},
	{"github-app-installation-id", "GITHUB_APP_INSTALLATION_ID", "0", "GitHub App installation id", false},
	{"github-app-private-key", "GITHUB_APP_PRIVATE_KEY_FILE", "", "path of the GitHub App private key (PEM)", false},
	{"github-api-url", "GITHUB_API_URL", "", "GitHub API root, e.g. https://ghe.example.com/api/v3/ (Gitea/Forgejo: https://host/api/v1/)", false},
	{"gitlab-token", "GITLAB_TOKEN", "", "GitLab token for commit statuses", true},
	{"gitlab-url", "GITLAB_URL", "", "GitLab base URL for self-managed instances", false},
	{"webhook-secret", "WEBHOOK_SECRET", "", "GitHub HMAC secret / GitLab token for push webhooks (webhooks off when empty)", true},
	{"wait-token", "WAIT_TOKEN", "", "bearer token required by /wait, /status, / and the API (open when empty)", true},
	{"listen", "LISTEN_ADDR", ":8080", "HTTP listen address", false},
	{"probe-addr", "PROBE_ADDR", ":8081", "listen address of /healthz, /readyz and /metrics alone, apart from /wait traffic (they stay on LISTEN_ADDR too); empty: none", false},
	{"wait-fetch-interval", "WAIT_FETCH_INTERVAL", "10s", "least time between the fetches that /wait and /status make for a sha syncgate does not know (at most GIT_SYNC_INTERVAL); requests in between wait for the next", false},
	{"allow-own-namespace", "ALLOW_OWN_NAMESPACE", "false", "let syncgate manage the namespace it runs in, where the config repo's pods could mount syncgate's credentials", false},
	{"allow-insecure-http", "ALLOW_INSECURE_HTTP", "false", "send credentials to http:// remotes, forge APIs and S3 endpoints (loopback addresses are always allowed)", false},
	{"public-url", "PUBLIC_URL", "", "URL CI and browsers reach syncgate at; commit statuses link to <url>/status/<sha>", false},
	{"max-wait-timeout", "MAX_WAIT_TIMEOUT", "30m", "cap on the timeout a /wait request may ask for", false},
	{"kubeconfig", "KUBECONFIG", "", "kubeconfig for out-of-cluster use (in-cluster config otherwise)", false},
	{"kube-api-qps", "KUBE_API_QPS", "200", "sustained requests per second to the Kubernetes API", false},
	{"kube-api-burst", "KUBE_API_BURST", "1000", "request burst to the Kubernetes API (a large commit is validated and applied in bursts)", false},
	{"leader-elect", "LEADER_ELECT", "true", "elect one replica to apply; the others serve /wait", false},
	{"lease-namespace", "POD_NAMESPACE", "", "namespace of the leader-election Lease (default: the pod's namespace)", false},
	{"pod-name", "POD_NAME", "", "identity in leader election (default: the host name)", false},
	{"log-level", "LOG_LEVEL", "info", "debug, info, warn or error", false},
	{"log-format", "LOG_FORMAT", "json", "json or text", false},
}

// bindSettings registers every setting as a flag whose default comes from its
// environment variable when set.
func bindSettings(fs *pflag.FlagSet, getenv func(string) string) map[string]*string {
	vals := make(map[string]*string, len(settings))
	for _, s := range settings {
		def := s.def
		if v := getenv(s.env); v != "" {
			def = v
		}
		usage := fmt.Sprintf("%s [$%s]", s.usage, s.env)
		shown := gitsource.RedactURL(def) // a URL's credentials stay out of --help too
		if s.secret && def != "" {
			shown = "" // never print a secret in --help
		}
		vals[s.flag] = fs.String(s.flag, shown, usage)
		*vals[s.flag] = def
	}
	return vals
}

// settingError names the setting a bad value came from, in one line.
func settingError(flag string, format string, args ...any) error {
	for _, s := range settings {
		if s.flag == flag {
			return fmt.Errorf("invalid setting %s (--%s): %s", s.env, flag, fmt.Sprintf(format, args...))
		}
	}
	return fmt.Errorf("invalid setting --%s: %s", flag, fmt.Sprintf(format, args...))
}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

var dnsSubdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// parseConfig turns the raw values into a checked config.
func parseConfig(v map[string]*string, ownNamespace string) (*config, error) {
	c := &config{
		Repo:                    strings.TrimSpace(*v["repo"]),
		Branch:                  strings.TrimSpace(*v["branch"]),
		Cluster:                 strings.TrimSpace(*v["cluster"]),
		CacheDir:                *v["cache-dir"],
		GitToken:                *v["git-token"],
		GitUsername:             *v["git-username"],
		GitSSHKey:               *v["git-ssh-key"],
		GitKnownHosts:           *v["git-known-hosts"],
		S3Bucket:                *v["s3-bucket"],
		S3Prefix:                strings.Trim(*v["s3-prefix"], "/"),
		S3Endpoint:              *v["s3-endpoint"],
		S3Region:                *v["s3-region"],
		StatusProvider:          strings.ToLower(*v["status-provider"]),
		GitHubToken:             *v["github-token"],
		GitHubAppPrivateKeyFile: *v["github-app-private-key"],
		GitHubAPIURL:            *v["github-api-url"],
		GitLabToken:             *v["gitlab-token"],
		GitLabURL:               *v["gitlab-url"],
		WebhookSecret:           *v["webhook-secret"],
		WaitToken:               *v["wait-token"],
		ListenAddr:              *v["listen"],
		ProbeAddr:               strings.TrimSpace(*v["probe-addr"]),
		PublicURL:               strings.TrimRight(*v["public-url"], "/"),
		Kubeconfig:              *v["kubeconfig"],
		LeaseNamespace:          *v["lease-namespace"],
		PodName:                 *v["pod-name"],
		LogLevel:                strings.ToLower(*v["log-level"]),
		LogFormat:               strings.ToLower(*v["log-format"]),
		AllowNamespaces:         splitList(*v["allow-namespaces"]),
		ApplyServiceAccount:     strings.TrimSpace(*v["apply-service-account"]),
	}
	var err error
	if c.Repo == "" {
		return nil, settingError("repo", "required")
	}
	if err := checkRepoURL(c.Repo); err != nil {
		return nil, settingError("repo", "%v", err)
	}
	if c.Cluster == "" {
		return nil, settingError("cluster", "required")
	}
	if !dnsLabel.MatchString(c.Cluster) {
		return nil, settingError("cluster", "%q is not a DNS label (lowercase letters, digits, '-')", c.Cluster)
	}
	c.Namespaces = splitList(*v["namespaces"])
	if len(c.Namespaces) == 0 {
		if ownNamespace == "" {
			return nil, settingError("namespaces", "required outside a pod (no service-account namespace to default to)")
		}
		c.Namespaces = []string{ownNamespace}
	}
	for _, ns := range c.Namespaces {
		if !dnsLabel.MatchString(ns) || len(ns) > 63 {
			return nil, settingError("namespaces", "%q is not a valid namespace name", ns)
		}
	}
	if sa := c.ApplyServiceAccount; sa != "" && (len(sa) > 253 || !dnsSubdomain.MatchString(sa)) {
		return nil, settingError("apply-service-account", "%q is not a valid ServiceAccount name", sa)
	}
	if c.LeaseNamespace == "" {
		c.LeaseNamespace = ownNamespace
	}
	if c.LeaseNamespace == "" {
		c.LeaseNamespace = c.Namespaces[0]
	}
	if c.PollInterval, err = parseInterval(*v["interval"]); err != nil || c.PollInterval <= 0 {
		return nil, settingError("interval", "%q is not a positive number of seconds or a Go duration", *v["interval"])
	}
	durations := []struct {
		flag string
		dst  *time.Duration
		zero bool
	}{
		{"health-timeout", &c.HealthTimeout, false},
		{"drift-interval", &c.DriftInterval, true},
		{"max-wait-timeout", &c.MaxWaitTimeout, false},
		{"wait-fetch-interval", &c.WaitFetchInterval, false},
	}
	for _, d := range durations {
		val, err := parseInterval(*v[d.flag])
		if err != nil || val < 0 || (val == 0 && !d.zero) {
			return nil, settingError(d.flag, "%q is not a positive duration", *v[d.flag])
		}
		*d.dst = val
	}
	bools := []struct {
		flag string
		dst  *bool
	}{
		{"prune", &c.Prune},
		{"allow-cluster-scoped", &c.AllowClusterScoped},
		{"allow-own-namespace", &c.AllowOwnNamespace},
		{"allow-insecure-http", &c.AllowInsecureHTTP},
		{"git-insecure-ignore-host-key", &c.GitInsecureIgnoreHostKey},
		{"leader-elect", &c.LeaderElect},
	}
	for _, b := range bools {
		val, err := strconv.ParseBool(*v[b.flag])
		if err != nil {
			return nil, settingError(b.flag, "%q is not true or false", *v[b.flag])
		}
		*b.dst = val
	}
	ints := []struct {
		flag string
		dst  *int64
	}{
		{"github-app-id", &c.GitHubAppID},
		{"github-app-installation-id", &c.GitHubAppInstallationID},
		{"kube-api-qps", &c.KubeQPS},
		{"kube-api-burst", &c.KubeBurst},
	}
	for _, i := range ints {
		val, err := strconv.ParseInt(*v[i.flag], 10, 64)
		if err != nil || val < 0 {
			return nil, settingError(i.flag, "%q is not a number", *v[i.flag])
		}
		*i.dst = val
	}
	c.WaitFetchInterval = min(c.WaitFetchInterval, c.PollInterval)
	if err := c.checkCredentials(); err != nil {
		return nil, err
	}
	if err := c.checkExposure(ownNamespace); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *config) checkCredentials() error {
	switch c.StatusProvider {
	case "", "github", "gitlab", "none":
	default:
		return settingError("status-provider", "%q is not github, gitlab or none", c.StatusProvider)
	}
	for _, p := range []struct{ flag, path string }{
		{"git-ssh-key", c.GitSSHKey},
		{"git-known-hosts", c.GitKnownHosts},
		{"github-app-private-key", c.GitHubAppPrivateKeyFile},
	} {
		if p.path == "" {
			continue
		}
		if _, err := os.Stat(p.path); err != nil {
			return settingError(p.flag, "cannot read %s", p.path)
		}
	}
	app := c.GitHubAppID != 0 || c.GitHubAppInstallationID != 0 || c.GitHubAppPrivateKeyFile != ""
	if app && (c.GitHubAppID == 0 || c.GitHubAppInstallationID == 0 || c.GitHubAppPrivateKeyFile == "") {
		return settingError("github-app-id", "a GitHub App needs GITHUB_APP_ID, GITHUB_APP_INSTALLATION_ID and GITHUB_APP_PRIVATE_KEY_FILE together")
	}
	for _, u := range []struct{ flag, val string }{
		{"github-api-url", c.GitHubAPIURL},
		{"gitlab-url", c.GitLabURL},
		{"s3-endpoint", c.S3Endpoint},
		{"public-url", c.PublicURL},
	} {
		if u.val == "" {
			continue
		}
		p, err := url.Parse(u.val)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return settingError(u.flag, "%q is not an http(s) URL", gitsource.RedactURL(u.val))
		}
	}
	if (c.S3Prefix != "" || c.S3Endpoint != "") && c.S3Bucket == "" {
		return settingError("s3-bucket", "required when S3_PREFIX or S3_ENDPOINT is set")
	}
	switch c.LogFormat {
	case "json", "text":
	default:
		return settingError("log-format", "%q is not json or text", c.LogFormat)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return settingError("log-level", "%q is not debug, info, warn or error", c.LogLevel)
	}
	return nil
}

var scpLike = regexp.MustCompile(`^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^/].*|^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:/.*`)

func checkRepoURL(raw string) error {
	if scpLike.MatchString(raw) {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q is not a URL", gitsource.RedactURL(raw))
	}
	switch u.Scheme {
	case "https", "http", "ssh":
		if u.Host == "" {
			return fmt.Errorf("%q has no host", gitsource.RedactURL(raw))
		}
	case "file":
		if u.Path == "" {
			return fmt.Errorf("%q has no path", gitsource.RedactURL(raw))
		}
	default:
		return fmt.Errorf("%q: scheme must be https, ssh, file or scp-like user@host:path", gitsource.RedactURL(raw))
	}
	if u.User != nil {
		if _, hasPassword := u.User.Password(); hasPassword {
			return fmt.Errorf("credentials in the URL are not accepted; use GIT_TOKEN")
		}
	}
	return nil
}

// parseInterval accepts a bare number of seconds (the seed's format) or a Go
// duration.
func parseInterval(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	return time.ParseDuration(s)
}

func splitList(s string) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p != "" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}
