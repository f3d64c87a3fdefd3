package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/record"

	"github.com/syncgate/syncgate/coreclient"
	"github.com/syncgate/syncgate/repourl"
	"github.com/syncgate/syncgate/server"
	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/outbox"
	"github.com/syncgate/syncgate/status/s3marker"
	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/sync/clusterwide"
	"github.com/syncgate/syncgate/sync/gitsource"
	"github.com/syncgate/syncgate/sync/healthrule"
	"github.com/syncgate/syncgate/sync/priority"
	"github.com/syncgate/syncgate/sync/readiness"
	"github.com/syncgate/syncgate/sync/render"
	"github.com/syncgate/syncgate/sync/syncer"
)

// parts are the running pieces of the agent.
type parts struct {
	server   *server.Server
	versions *server.VersionWatcher
	syncer   *syncer.Syncer
	// shards are the namespaces of each shard and the deliverer of their
	// reports; one shard of every namespace unless SHARDS is set.
	shards        []shardParts
	previews      *previewParts
	repoDisplay   string
	reportersDesc []string
}

// kubeClients are the agent's API clients, each built once and handed to
// every part that needs it.
type kubeClients struct {
	// core and dyn are syncgate's own identity: Versions, announcements,
	// previews, decryption keys, Leases.
	core *coreclient.Client
	dyn  dynamic.Interface
	// namespaces work on the managed namespaces, each as its own
	// ServiceAccount (impersonation), with the one discovery cache and
	// RESTMapper; apply, readiness and render's scoping share them.
	namespaces *apply.Clients
	// events records Kubernetes Events on the Versions.
	events record.EventRecorder
}

// assemble builds every part once, from the config.
func assemble(ctx context.Context, cfg *config, logger *slog.Logger, kc kubeClients, reg *prometheus.Registry) (*parts, error) {
	src, err := gitsource.New(gitsource.Options{
		URL: cfg.Repo, Branch: cfg.Branch, CacheDir: cfg.CacheDir,
		Token: cfg.GitToken, Username: cfg.GitUsername,
		SSHKeyPath: cfg.GitSSHKey, KnownHostsPath: cfg.GitKnownHosts, InsecureIgnoreHostKey: cfg.GitInsecureIgnoreHostKey,
		Stall: cfg.FetchStall, MaxFetch: maxFetch(cfg.FetchMaxBytes),
		Logger: logger.With("component", "git"),
	})
	if err != nil {
		return nil, err
	}
	// Each namespace is applied, pruned and read as its own ServiceAccount,
	// so that RBAC, not render alone, bounds what its commits can touch.
	rules, err := healthrule.Parse(cfg.HealthRules) // checked at start
	if err != nil {
		return nil, err
	}
	// Rollouts share their watches: one per kind for every managed
	// namespace, as syncgate, where the RBAC shipped lets it (each
	// namespace's objects still listed as its own account first).
	// What syncgate may watch in every namespace is asked once for all its
	// watches: readiness's and the Versions'.
	grants := clusterwide.NewGrants(kc.dyn, 0, logger.With("component", "grants"))
	checker, err := readiness.New(readiness.Options{Clients: kc.namespaces, Own: kc.dyn, Grants: grants, Owners: cfg.Namespaces,
		Rules: rules, Logger: logger.With("component", "readiness")})
	if err != nil {
		return nil, err
	}
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "syncgate_readiness_watches", Help: "Watches the rollouts share, open now."},
		func() float64 { open, _ := checker.Watches(); return float64(open) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "syncgate_readiness_watches_started_total", Help: "Watches started for rollouts."},
			func() float64 { _, started := checker.Watches(); return float64(started) }))
	// Objects ready as the server answers their apply (a ConfigMap, a
	// Secret) are not watched for a rollout.
	applier, err := apply.New(nil, apply.Options{Prune: cfg.Prune, Clients: kc.namespaces,
		AllowNamespaces: cfg.AllowNamespaces, AllowClusterScoped: cfg.AllowClusterScoped,
		ReadyAsApplied: checker.ReadyAsApplied, Logger: logger.With("component", "apply"), Metrics: reg})
	if err != nil {
		return nil, err
	}
	if cfg.ApplyServiceAccount == "" {
		logger.Warn("APPLY_SERVICE_ACCOUNT is empty: every namespace is applied as syncgate itself, confined by render alone")
	}
	renderer, err := render.New(render.Options{Cluster: cfg.Cluster, AllowNamespaces: cfg.AllowNamespaces,
		AllowClusterScoped: cfg.AllowClusterScoped, Scoper: applier.Scoper(), Decrypter: decrypter(cfg, kc.core)})
	if err != nil {
		return nil, err
	}
	store := version.NewStore(kc.dyn)

	reporters, desc, err := buildReporters(ctx, cfg, logger)
	if err != nil {
		return nil, err
	}
	forges, origins, err := forgeReporters(cfg, logger, src)
	if err != nil {
		return nil, err
	}
	for _, f := range forges {
		reporters, desc = append(reporters, f.reporter), append(desc, f.why)
	}
	shards, reports, err := assembleShards(cfg, logger, reg, outbox.Options{Store: store, Reporters: reporters, Origins: origins})
	if err != nil {
		return nil, err
	}
	var watcher *server.VersionWatcher
	// Syncs at work hold it; previews wait at it before each step.
	gate := priority.New()
	var sy *syncer.Syncer
	sy, err = syncer.New(syncer.Options{
		Cluster: cfg.Cluster, Namespaces: cfg.Namespaces,
		Spec:   version.VersionSpec{Cluster: cfg.Cluster, Repo: repourl.Redact(cfg.Repo), Branch: cfg.Branch},
		Source: src, Renderer: renderer, Applier: newBoundedApplier(applier, int(cfg.ApplyingAtOnce)), Readiness: checker, Store: store, Outbox: reports, Events: kc.events,
		PollInterval: cfg.PollInterval, DriftInterval: cfg.DriftInterval, RetryBudget: cfg.HealthTimeout, HealthTimeout: cfg.HealthTimeout,
		Announce:   func(head string) { go announce(ctx, store, watcher, sy.Leads, cfg.Namespaces, head, logger) },
		Remembered: func(ns string) *version.Version { return watcher.Remembered(ns) },
		Gate:       gate,
		Idle:       newTrimmer().Idle,
		Logger:     logger.With("component", "syncer"), Metrics: reg,
	})
	if err != nil {
		return nil, err
	}
	// Every replica watches every Version: in one watch where syncgate
	// may list and watch Versions in every namespace.
	watcher = server.NewVersionWatcher(kc.dyn, grants, cfg.Namespaces, logger.With("component", "versions"))
	watcher.OnAnnounced(sy.Nudge)
	watcher.OnDeleted(sy.VersionDeleted)
	previews, err := assemblePreviews(cfg, logger, kc.core, src, renderer, applier, watcher, gate, forgeOf(reporters))
	if err != nil {
		return nil, err
	}
	var previewer server.Previews
	if previews != nil {
		previewer = previews.previewer
	}
	srv, err := server.New(server.Options{
		Cluster: cfg.Cluster, Namespaces: cfg.Namespaces, Repo: repoAdapter{Source: src, fetch: sy.Fetch, fetched: sy.Fetched}, Versions: watcher,
		Nudge: sy.Nudge, Ready: sy.Polled, Branch: src.Branch, RepoURL: cfg.Repo,
		Commits: repoAdapter{Source: src}, CommitURL: commitLinks(cfg),
		WaitToken: cfg.WaitToken, WebhookSecret: cfg.WebhookSecret,
		MaxWaitTimeout: cfg.MaxWaitTimeout, FetchEvery: cfg.WaitFetchInterval,
		Previews: previewer, PreviewForks: cfg.PreviewForks,
		Logger: logger.With("component", "http"), Metrics: reg,
	})
	if err != nil {
		return nil, err
	}
	return &parts{server: srv, versions: watcher, syncer: sy, shards: shards, previews: previews, repoDisplay: repourl.Redact(cfg.Repo), reportersDesc: desc}, nil
}

// announce tells the leaders, through the Versions they watch, of a head
// this replica fetched: webhooks and /wait reach any replica, and only a
// leader applies. Every replica watches every Version and fetches on any
// announcement, so one write is enough: on the first Version not led here
// that does not show the head yet (with shards, the namespaces this
// replica leads get the head from it). A failed write tries the next.
func announce(ctx context.Context, store announcer, versions versionGetter, leads func(string) bool, namespaces []string, head string, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for _, ns := range namespaces {
		if leads(ns) {
			continue
		}
		v := versions.Get(ns)
		if v == nil || v.Status.Head == head {
			continue
		}
		if v.Annotations[version.HeadAnnotation] == head {
			return // announced already
		}
		if err := store.Announce(ctx, ns, head); err != nil {
			logger.Warn("cannot announce a fetched head", "namespace", ns, "sha", head, "err", err)
			continue
		}
		return
	}
}

// announcer writes a fetched head on a namespace's Version.
type announcer interface {
	Announce(ctx context.Context, namespace, head string) error
}

// versionGetter is the Versions as last seen.
type versionGetter interface {
	Get(namespace string) *version.Version
}

// buildReporters picks the CI channels the settings ask for.
func buildReporters(ctx context.Context, cfg *config, logger *slog.Logger) ([]status.Reporter, []string, error) {
	var rs []status.Reporter
	var desc []string
	if cfg.S3Bucket != "" {
		opts := s3marker.Options{Bucket: cfg.S3Bucket, Prefix: cfg.S3Prefix, Cluster: cfg.Cluster, Endpoint: cfg.S3Endpoint, Region: cfg.S3Region}
		client, err := s3marker.NewClient(ctx, opts)
		if err != nil {
			return nil, nil, err
		}
		r, err := s3marker.New(client, opts)
		if err != nil {
			return nil, nil, err
		}
		rs = append(rs, r)
		desc = append(desc, "s3://"+cfg.S3Bucket+"/"+cfg.S3Prefix)
	} else {
		logger.Info("S3 markers off: S3_BUCKET is not set")
	}
	return rs, desc, nil
}

// repoAdapter maps gitsource's errors to the gateway's, and fetches through
// the syncer, so a head the gateway finds is applied at once.
type repoAdapter struct {
	*gitsource.Source
	fetch   func(context.Context) (string, error)
	fetched func() <-chan struct{}
}

func (r repoAdapter) Sync(ctx context.Context) (string, error) { return r.fetch(ctx) }
func (r repoAdapter) Fetched() <-chan struct{}                 { return r.fetched() }

// CommitInfo reads a commit for the status page and the delivery metrics.
func (r repoAdapter) CommitInfo(sha string) (server.CommitInfo, bool) {
	c, err := r.Source.CommitOf(sha)
	if err != nil {
		return server.CommitInfo{}, false
	}
	return server.CommitInfo{Subject: c.Subject, Author: c.Author, Time: c.Time}, true
}

func (r repoAdapter) Resolve(prefix string) (string, error) {
	sha, err := r.Source.Resolve(prefix)
	switch {
	case errors.Is(err, gitsource.ErrAmbiguousRevision):
		return "", fmt.Errorf("%w: %v", server.ErrAmbiguousSHA, err)
	case errors.Is(err, gitsource.ErrUnknownRevision):
		return "", fmt.Errorf("%w: %v", server.ErrUnknownSHA, err)
	}
	return sha, err
}

// maxFetch is GIT_FETCH_MAX_BYTES as gitsource takes it: 0 is unbounded.
func maxFetch(n int64) int64 {
	if n == 0 {
		return -1
	}
	return n
}
