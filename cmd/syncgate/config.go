// Settings of `syncgate run`. Each is a flag and an environment variable,
// typed once: a field of config and one line in (*config).settings, whose
// value constructor (text, trimmed, trimmedOrOff, lower, secret, list,
// boolean, count, duration, durationOrOff, cleaned) reads and checks the text into the
// field. Adding a setting is those two lines:
//
//	PreviewForks bool                                     // in config
//	{"preview-forks", "PREVIEW_FORKS", "false", "usage", boolean(&c.PreviewForks)}, // in settings
//
// A bad flag or variable then stops start-up with one line naming both
// (config_settings.go: bindSettings, load, flagError). A rule the type
// cannot say (required, a DNS name, a file that must exist, a rule between
// two settings) goes in check or checkCredentials, naming the setting by
// its field: c.invalid(&c.PreviewForks, "...").

package main

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/syncgate/syncgate/repourl"
	"github.com/syncgate/syncgate/status/deployment"
	"github.com/syncgate/syncgate/sync/healthrule"
)

// config is everything `syncgate run` is told, from flags or their
// environment variables (the variable wins over the built-in default, the
// flag over the variable).
type config struct {
	Repo         string
	Branch       string
	Namespaces   []string
	Cluster      string
	PollInterval time.Duration
	// FetchStall abandons a fetch that received nothing for this long.
	FetchStall time.Duration
	// FetchMaxBytes bounds what one fetch may receive; 0: unbounded.
	FetchMaxBytes int64
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
	// SOPSSecret is the Secret holding the SOPS decryption keys,
	// "namespace/name" once checked; empty: encrypted Secrets are refused.
	SOPSSecret string
	// HealthRules are CEL health rules per kind (healthrule.Parse).
	HealthRules string

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

	// Deployments is github, gitlab, off, or "" for the commit statuses' forge.
	Deployments                                     string
	DeploymentEnvironment, DeploymentEnvironmentURL string
	DeploymentTransient                             bool
	// OriginReports reports to the application commits Syncgate-Origin
	// trailers name.
	OriginReports bool

	WebhookSecret string
	WaitToken     string
	ListenAddr    string
	ProbeAddr     string
	// DebugAddr serves Go's profiles (/debug/pprof/) on a loopback
	// address; off when empty.
	DebugAddr string
	PublicURL string
	// CommitURL is the web page of a config-repo commit, {sha} standing
	// for its sha: the status page links commits to it.
	CommitURL      string
	MaxWaitTimeout time.Duration
	// WaitFetchInterval paces the fetches /wait and /status make for shas
	// syncgate does not know; never longer than PollInterval.
	WaitFetchInterval time.Duration

	Kubeconfig string
	KubeQPS    int64
	KubeBurst  int64
	// ApplyingAtOnce bounds the namespaces that dry-run and apply at once
	// (applying.go).
	ApplyingAtOnce int64
	LeaderElect    bool
	LeaseDuration  time.Duration
	// Shards divides the namespaces among replicas, each shard led through
	// a Lease of its own; 1 is one leader for all (the Lease syncgate-leader).
	Shards         int64
	LeaseNamespace string
	PodName        string
	LogLevel       string
	LogFormat      string

	// PreviewForks lets pull requests from forks be previewed;
	// PreviewWorkers is how many previews run at once (0: none).
	PreviewForks   bool
	PreviewWorkers int64
}

// settings lists every setting: its flag, its variable, its built-in
// default as written on the command line, its usage, and the typed field
// it fills (the value's constructor says how the text is read).
func (c *config) settings() []setting {
	return []setting{
		{"repo", "CONFIG_REPO", "", "config repo URL: https://, ssh://, scp-like or file:// (required)", trimmed(&c.Repo)},
		{"branch", "CONFIG_BRANCH", "", "branch to follow (default: the remote's HEAD)", trimmed(&c.Branch)},
		{"namespaces", "MANAGED_NAMESPACES", "", "comma-separated namespaces to manage (default: the pod's own namespace)", list(&c.Namespaces)},
		{"cluster", "CLUSTER_NAME", "", "this cluster's name, used in repo paths and S3 keys (required)", trimmed(&c.Cluster)},
		{"interval", "GIT_SYNC_INTERVAL", "60s", "poll interval: seconds (60) or a Go duration (1m)", duration(&c.PollInterval)},
		{"git-fetch-stall-timeout", "GIT_FETCH_STALL_TIMEOUT", "2m", "a fetch that receives nothing from the config repo for this long is abandoned and retried; one that keeps receiving runs as long as it needs (the first clone of a big repo)", duration(&c.FetchStall)},
		{"git-fetch-max-bytes", "GIT_FETCH_MAX_BYTES", "4294967296", "bytes one fetch (or the first clone) may receive from the config repo; a fetch that receives more is refused and the cluster stays as it is, so that one push of a huge pack cannot fill the cache disk (4 GiB); 0: unbounded", count(&c.FetchMaxBytes)},
		{"cache-dir", "CACHE_DIR", "", "where the repo clone is kept (default: a directory under the OS temp dir)", text(&c.CacheDir)},
		{"health-timeout", "HEALTH_TIMEOUT", "5m", "how long a rollout may take, from when its commit was applied, before the commit is failed", duration(&c.HealthTimeout)},
		{"drift-interval", "DRIFT_INTERVAL", "10m", "how often live objects are compared with the applied commit; 0 turns it off", durationOrOff(&c.DriftInterval)},
		{"prune", "PRUNE", "true", "delete objects syncgate applied that a newer commit no longer has", boolean(&c.Prune)},
		{"allow-namespaces", "ALLOW_NAMESPACES", "", "comma-separated foreign namespaces objects may name", list(&c.AllowNamespaces)},
		{"allow-cluster-scoped", "ALLOW_CLUSTER_SCOPED", "false", "allow cluster-scoped objects (CRDs, ClusterRoles, ...) in the repo", boolean(&c.AllowClusterScoped)},
		{"apply-service-account", "APPLY_SERVICE_ACCOUNT", "syncgate", "ServiceAccount of each managed namespace that syncgate applies, prunes and reads it as (impersonation); the flag set to nothing (--apply-service-account=) applies as syncgate itself, not confined, while a variable set to nothing keeps the default, so a blank key never lifts the confinement", trimmed(&c.ApplyServiceAccount)},
		{"sops-secret", "SOPS_SECRET", "", "Secret holding the keys encrypted Secrets of the repo are decrypted with (entries *.agekey: age identities; *.asc: OpenPGP private keys), as name in syncgate's namespace or namespace/name; empty: encrypted Secrets are refused", trimmedOrOff(&c.SOPSSecret)},
		{"health-rules", "HEALTH_RULES", "", "CEL health rules for kinds without standard conditions, a YAML list of {apiVersion, kind, current, failed} expressions over the object's metadata, spec and status", text(&c.HealthRules)},
		{"git-token", "GIT_TOKEN", "", "HTTPS token for the config repo", secret(&c.GitToken)},
		{"git-username", "GIT_USERNAME", "", "HTTPS user for GIT_TOKEN (default per provider convention)", text(&c.GitUsername)},
		{"git-ssh-key", "GIT_SSH_KEY", "", "path of the SSH private key for the config repo", text(&c.GitSSHKey)},
		{"git-known-hosts", "GIT_KNOWN_HOSTS", "", "path of the known_hosts file that SSH host keys are checked against", text(&c.GitKnownHosts)},
		{"git-insecure-ignore-host-key", "GIT_INSECURE_IGNORE_HOST_KEY", "false", "accept any SSH host key (unsafe; for tests)", boolean(&c.GitInsecureIgnoreHostKey)},
		{"s3-bucket", "S3_BUCKET", "", "bucket for deployment markers (markers off when empty)", text(&c.S3Bucket)},
		{"s3-prefix", "S3_PREFIX", "", "key prefix for markers", cleaned(&c.S3Prefix, func(s string) string { return strings.Trim(s, "/") })},
		{"s3-endpoint", "S3_ENDPOINT", "", "S3-compatible endpoint URL (path-style addressing)", text(&c.S3Endpoint)},
		{"s3-region", "AWS_REGION", "", "S3 region (default from the AWS SDK's chain, else us-east-1)", text(&c.S3Region)},
		{"status-provider", "STATUS_PROVIDER", "", "commit statuses: github, gitlab or none (default: from the repo host)", lower(&c.StatusProvider)},
		{"github-token", "GITHUB_TOKEN", "", "GitHub token for commit statuses", secret(&c.GitHubToken)},
		{"github-app-id", "GITHUB_APP_ID", "0", "GitHub App id (with installation id and key file, instead of a token)", count(&c.GitHubAppID)},
		{"github-app-installation-id", "GITHUB_APP_INSTALLATION_ID", "0", "GitHub App installation id", count(&c.GitHubAppInstallationID)},
		{"github-app-private-key", "GITHUB_APP_PRIVATE_KEY_FILE", "", "path of the GitHub App private key (PEM)", text(&c.GitHubAppPrivateKeyFile)},
		{"github-api-url", "GITHUB_API_URL", "", "GitHub API root, e.g. https://ghe.example.com/api/v3/ (Gitea/Forgejo: https://host/api/v1/)", text(&c.GitHubAPIURL)},
		{"gitlab-token", "GITLAB_TOKEN", "", "GitLab token for commit statuses", secret(&c.GitLabToken)},
		{"gitlab-url", "GITLAB_URL", "", "GitLab base URL for self-managed instances", text(&c.GitLabURL)},
		{"deployments", "DEPLOYMENTS", "", "GitHub Deployments or GitLab environments per namespace: github, gitlab or off (default: on the commit statuses' forge when it has credentials, until the forge says the token may not)", lower(&c.Deployments)},
		{"deployment-environment", "DEPLOYMENT_ENVIRONMENT", deployment.DefaultEnvironment, "environment name, a Go template over {{.Cluster}} and {{.Namespace}} (per namespace: {{if eq .Namespace \"web\"}}production{{else}}...{{end}})", trimmed(&c.DeploymentEnvironment)},
		{"deployment-environment-url", "DEPLOYMENT_ENVIRONMENT_URL", "", "the environment's URL on each deployment, a template like DEPLOYMENT_ENVIRONMENT (none when empty)", trimmed(&c.DeploymentEnvironmentURL)},
		{"deployment-transient", "DEPLOYMENT_TRANSIENT", "false", "create GitHub deployments with transient_environment set", boolean(&c.DeploymentTransient)},
		{"origin-reports", "ORIGIN_REPORTS", "true", "also report to the application commits a config commit names in Syncgate-Origin: <repo>@<sha> trailers", boolean(&c.OriginReports)},
		{"webhook-secret", "WEBHOOK_SECRET", "", "GitHub HMAC secret / GitLab token for push webhooks (webhooks off when empty)", secret(&c.WebhookSecret)},
		{"wait-token", "WAIT_TOKEN", "", "bearer token required by /wait, /status, / and the API (open when empty)", secret(&c.WaitToken)},
		{"listen", "LISTEN_ADDR", ":8080", "HTTP listen address, host:port", text(&c.ListenAddr)},
		{"probe-addr", "PROBE_ADDR", ":8081", "listen address of /healthz, /readyz and /metrics alone, apart from /wait traffic (they stay on LISTEN_ADDR too); LISTEN_ADDR's address, however written (:8080, 0.0.0.0:8080, [::]:8080): no listener of their own; empty: none", trimmedOrOff(&c.ProbeAddr)},
		{"debug-addr", "DEBUG_ADDR", "", "loopback address (127.0.0.1:6060) serving Go's profiles under /debug/pprof/, for diagnosing memory and CPU; off when empty", trimmedOrOff(&c.DebugAddr)},
		{"wait-fetch-interval", "WAIT_FETCH_INTERVAL", "10s", "least time between the fetches that /wait and /status make for a sha syncgate does not know (at most GIT_SYNC_INTERVAL); requests in between wait for the next", duration(&c.WaitFetchInterval)},
		{"allow-own-namespace", "ALLOW_OWN_NAMESPACE", "false", "let syncgate manage the namespace it runs in, where the config repo's pods could mount syncgate's credentials", boolean(&c.AllowOwnNamespace)},
		{"allow-insecure-http", "ALLOW_INSECURE_HTTP", "false", "send credentials to http:// remotes, forge APIs and S3 endpoints (loopback addresses are always allowed)", boolean(&c.AllowInsecureHTTP)},
		{"public-url", "PUBLIC_URL", "", "URL CI and browsers reach syncgate at; commit statuses link to <url>/status/<sha>", cleaned(&c.PublicURL, func(s string) string { return strings.TrimRight(s, "/") })},
		{"commit-url", "COMMIT_URL", "", "web page of a config-repo commit, {sha} standing for the sha, that the status page links commits to (default: from the forge hosting the repo, as for commit statuses; else /status/<sha>)", trimmed(&c.CommitURL)},
		{"max-wait-timeout", "MAX_WAIT_TIMEOUT", "30m", "cap on the timeout a /wait request may ask for", duration(&c.MaxWaitTimeout)},
		{"kubeconfig", "KUBECONFIG", "", "kubeconfig for out-of-cluster use (in-cluster config otherwise)", text(&c.Kubeconfig)},
		{"kube-api-qps", "KUBE_API_QPS", "200", "sustained requests per second to the Kubernetes API (at least 1)", count(&c.KubeQPS)},
		{"kube-api-burst", "KUBE_API_BURST", "1000", "request burst to the Kubernetes API (a large commit is validated and applied in bursts)", count(&c.KubeBurst)},
		{"apply-namespaces-at-once", "APPLY_NAMESPACES_AT_ONCE", "8", "namespaces that dry-run and apply at once (each with up to 64 requests in flight); the others wait their turn", count(&c.ApplyingAtOnce)},
		{"leader-elect", "LEADER_ELECT", "true", "elect one replica to apply; the others serve /wait", boolean(&c.LeaderElect)},
		{"lease-duration", "LEASE_DURATION", "15s", "how long a Lease holds without renewal, in whole seconds: a dead leader's work moves within it (renewed every 2/3 of it, retried every 2/15)", duration(&c.LeaseDuration)},
		{"shards", "SHARDS", "1", "divide the namespaces into this many shards (by FNV hash of the name), each led through its own Lease syncgate-shard-<i>, replicas sharing them; 1 is one leader for all", count(&c.Shards)},
		{"lease-namespace", "POD_NAMESPACE", "", "namespace of the leader-election Lease (default: the pod's namespace)", text(&c.LeaseNamespace)},
		{"pod-name", "POD_NAME", "", "identity in leader election (default: the host name)", text(&c.PodName)},
		{"log-level", "LOG_LEVEL", "info", "debug, info, warn or error", lower(&c.LogLevel)},
		{"log-format", "LOG_FORMAT", "json", "json or text", lower(&c.LogFormat)},
		{"preview-forks", "PREVIEW_FORKS", "false", "preview pull requests from forks too (their content is rendered and dry-run as each namespace's identity)", boolean(&c.PreviewForks)},
		{"preview-workers", "PREVIEW_WORKERS", "2", "pull request previews run at once, beside syncs (more are queued); 0 turns previews off", count(&c.PreviewWorkers)},
	}
}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

var dnsSubdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// check completes and checks a loaded config: what is required, what the
// types cannot say, defaults that depend on other settings.
func (c *config) check(ownNamespace string) error {
	if c.Repo == "" {
		return c.invalid(&c.Repo, "required")
	}
	if err := checkRepoURL(c.Repo); err != nil {
		return c.invalid(&c.Repo, "%v", err)
	}
	if c.Cluster == "" {
		return c.invalid(&c.Cluster, "required")
	}
	if !dnsLabel.MatchString(c.Cluster) {
		return c.invalid(&c.Cluster, "%q is not a DNS label (lowercase letters, digits, '-')", c.Cluster)
	}
	if len(c.Namespaces) == 0 {
		if ownNamespace == "" {
			return c.invalid(&c.Namespaces, "required outside a pod (no service-account namespace to default to)")
		}
		c.Namespaces = []string{ownNamespace}
	}
	for _, ns := range c.Namespaces {
		if !dnsLabel.MatchString(ns) || len(ns) > 63 {
			return c.invalid(&c.Namespaces, "%q is not a valid namespace name", ns)
		}
	}
	if sa := c.ApplyServiceAccount; sa != "" && (len(sa) > 253 || !dnsSubdomain.MatchString(sa)) {
		return c.invalid(&c.ApplyServiceAccount, "%q is not a valid ServiceAccount name", sa)
	}
	if c.LeaseNamespace == "" {
		c.LeaseNamespace = ownNamespace
	}
	if c.LeaseNamespace == "" {
		c.LeaseNamespace = c.Namespaces[0]
	}
	c.WaitFetchInterval = min(c.WaitFetchInterval, c.PollInterval)
	if c.LeaseDuration < 3*time.Second {
		return c.invalid(&c.LeaseDuration, "at least 3s")
	}
	if c.LeaseDuration%time.Second != 0 {
		return c.invalid(&c.LeaseDuration, "whole seconds, as a Lease holds it")
	}
	for _, addr := range []*string{&c.ListenAddr, &c.ProbeAddr, &c.DebugAddr} {
		if addr == &c.ListenAddr || *addr != "" { // the others are off when empty
			if err := checkListenAddr(*addr); err != nil {
				return c.invalid(addr, "%v", err)
			}
		}
	}
	if c.DebugAddr != "" {
		if err := checkDebugAddr(c.DebugAddr); err != nil {
			return c.invalid(&c.DebugAddr, "%v", err)
		}
	}
	if c.KubeQPS < 1 {
		return c.invalid(&c.KubeQPS, "at least 1")
	}
	if c.KubeBurst < 1 {
		return c.invalid(&c.KubeBurst, "at least 1")
	}
	if c.Shards < 1 {
		return c.invalid(&c.Shards, "at least 1")
	}
	if c.ApplyingAtOnce < 1 {
		return c.invalid(&c.ApplyingAtOnce, "at least 1")
	}
	if c.Shards > 1 && !c.LeaderElect {
		return c.invalid(&c.Shards, "shards are led through Leases: LEADER_ELECT must be on")
	}
	if err := c.checkSOPSSecret(); err != nil {
		return err
	}
	if _, err := healthrule.Parse(c.HealthRules); err != nil {
		return c.invalid(&c.HealthRules, "%v", err)
	}
	if err := c.checkCredentials(); err != nil {
		return err
	}
	return c.checkExposure(ownNamespace)
}

// checkSOPSSecret makes SOPSSecret namespace/name, in syncgate's own
// namespace when it names none.
func (c *config) checkSOPSSecret() error {
	if c.SOPSSecret == "" {
		return nil
	}
	ns, name, found := strings.Cut(c.SOPSSecret, "/")
	if !found {
		ns, name = c.LeaseNamespace, c.SOPSSecret
	}
	if !dnsLabel.MatchString(ns) || len(ns) > 63 || !dnsSubdomain.MatchString(name) || len(name) > 253 {
		return c.invalid(&c.SOPSSecret, "%q is not a Secret name or namespace/name", c.SOPSSecret)
	}
	c.SOPSSecret = ns + "/" + name
	return nil
}

func (c *config) checkCredentials() error {
	switch c.StatusProvider {
	case "", "github", "gitlab", "none":
	default:
		return c.invalid(&c.StatusProvider, "%q is not github, gitlab or none", c.StatusProvider)
	}
	switch c.Deployments {
	case "", "github", "gitlab", "off":
	default:
		return c.invalid(&c.Deployments, "%q is not github, gitlab or off", c.Deployments)
	}
	if _, err := deployment.NewNaming(c.DeploymentEnvironment, ""); err != nil {
		return c.invalid(&c.DeploymentEnvironment, "%v", err)
	}
	if _, err := deployment.NewNaming(c.DeploymentEnvironment, c.DeploymentEnvironmentURL); err != nil {
		return c.invalid(&c.DeploymentEnvironmentURL, "%v", err)
	}
	for _, path := range []*string{&c.GitSSHKey, &c.GitKnownHosts, &c.GitHubAppPrivateKeyFile} {
		if *path == "" {
			continue
		}
		if _, err := os.Stat(*path); err != nil {
			return c.invalid(path, "cannot read %s", *path)
		}
	}
	app := c.GitHubAppID != 0 || c.GitHubAppInstallationID != 0 || c.GitHubAppPrivateKeyFile != ""
	if app && (c.GitHubAppID == 0 || c.GitHubAppInstallationID == 0 || c.GitHubAppPrivateKeyFile == "") {
		return c.invalid(&c.GitHubAppID, "a GitHub App needs GITHUB_APP_ID, GITHUB_APP_INSTALLATION_ID and GITHUB_APP_PRIVATE_KEY_FILE together")
	}
	for _, u := range []*string{&c.GitHubAPIURL, &c.GitLabURL, &c.S3Endpoint, &c.PublicURL} {
		if *u == "" {
			continue
		}
		p, err := url.Parse(*u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return c.invalid(u, "%q is not an http(s) URL", repourl.Redact(*u))
		}
	}
	if c.CommitURL != "" {
		p, err := url.Parse(strings.ReplaceAll(c.CommitURL, "{sha}", "0"))
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || !strings.Contains(c.CommitURL, "{sha}") {
			return c.invalid(&c.CommitURL, "%q is not an http(s) URL with {sha} in it", repourl.Redact(c.CommitURL))
		}
	}
	if (c.S3Prefix != "" || c.S3Endpoint != "") && c.S3Bucket == "" {
		return c.invalid(&c.S3Bucket, "required when S3_PREFIX or S3_ENDPOINT is set")
	}
	switch c.LogFormat {
	case "json", "text":
	default:
		return c.invalid(&c.LogFormat, "%q is not json or text", c.LogFormat)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return c.invalid(&c.LogLevel, "%q is not debug, info, warn or error", c.LogLevel)
	}
	return nil
}

// checkListenAddr takes what a listener binds: host:port, the host empty
// (every address), an IP or a name, the port a number from 0 to 65535.
func checkListenAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port (:8080, 127.0.0.1:8080)", addr)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n > 65535 {
		return fmt.Errorf("%q: the port is not a number from 0 to 65535", addr)
	}
	return nil
}

// checkRepoURL takes what git can fetch: https, http, ssh, file or the
// scp-like user@host:path; no password in the URL.
func checkRepoURL(raw string) error {
	u, err := repourl.Parse(raw)
	if err != nil {
		return err
	}
	switch u.Scheme {
	case "https", "http", "ssh":
		if u.Host == "" {
			return fmt.Errorf("%q has no host", repourl.Redact(raw))
		}
	case "file":
		if u.Path == "" {
			return fmt.Errorf("%q has no path", repourl.Redact(raw))
		}
	default:
		return fmt.Errorf("%q: scheme must be https, ssh, file or scp-like user@host:path", repourl.Redact(raw))
	}
	if u.HasPassword() {
		return fmt.Errorf("credentials in the URL are not accepted; use GIT_TOKEN")
	}
	return nil
}
