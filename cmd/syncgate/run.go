package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"

	"github.com/syncgate/syncgate/coreclient"
	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/sync/lease"
	"github.com/syncgate/syncgate/sync/render"
)

const saNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

func newRunCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the agent: follow the config repo, apply, report, serve /wait",
		Long: `Run the agent. Every setting is a flag and an environment variable (shown
in brackets); the flag wins. A bad setting stops start-up with one line
naming it. With leader election on, one replica applies and every replica
serves /wait.`,
		Args: cobra.NoArgs,
	}
	vals := bindSettings(cmd.Flags(), os.LookupEnv)
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &exitError{code: exitUsage, msg: flagError(err).Error()}
	})
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, rc, err := startSettings(cmd.Context(), vals)
		if err != nil {
			return &exitError{code: exitUsage, msg: err.Error()}
		}
		lns, err := listen(cfg)
		if err != nil {
			return &exitError{code: exitUsage, msg: err.Error()}
		}
		defer lns.close()
		logger := newLogger(cfg, cmd.ErrOrStderr())
		if err := runAgent(cmd.Context(), cfg, rc, lns, logger); err != nil {
			var ex *exitError
			if errors.As(err, &ex) { // start-up stopped, in one line
				return ex
			}
			logger.Error("syncgate stopped", "err", err)
			return &exitError{code: exitFailed}
		}
		return nil
	}
	return cmd
}

// startSettings is every check of the settings that stops start-up in
// one line: the settings themselves, the Kubernetes client configuration
// they lead to, and the kustomize build program.
func startSettings(ctx context.Context, vals *settings) (*config, *rest.Config, error) {
	cfg, err := vals.load()
	if err != nil {
		return nil, nil, err
	}
	own := ""
	if cfg.Kubeconfig == "" { // out of a cluster there is no pod, so no namespace of its own
		own = ownNamespace()
	}
	if err := cfg.check(own); err != nil {
		return nil, nil, err
	}
	rc, err := restConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	// every kustomization fails without it
	if err := render.CheckBuildProgram(ctx, render.Options{}); err != nil {
		return nil, nil, err
	}
	return cfg, rc, nil
}

func ownNamespace() string {
	if ns := os.Getenv("POD_NAMESPACE"); ns != "" {
		return ns
	}
	b, err := os.ReadFile(saNamespaceFile)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func newLogger(cfg *config, w interface{ Write([]byte) (int, error) }) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewJSONHandler(w, opts)
	if cfg.LogFormat == "text" {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(h)
}

// restConfig is the Kubernetes client configuration: KUBECONFIG's file,
// else the pod's own (in-cluster); either missing or unreadable is an
// invalid KUBECONFIG.
func restConfig(cfg *config) (*rest.Config, error) {
	var rc *rest.Config
	var err error
	if cfg.Kubeconfig != "" {
		rc, err = clientcmd.BuildConfigFromFlags("", cfg.Kubeconfig)
	} else {
		rc, err = rest.InClusterConfig()
		if err != nil {
			err = fmt.Errorf("not set, and no in-cluster configuration (not in a pod, or its service account token not mounted): %w", err)
		}
	}
	if err != nil {
		return nil, cfg.invalid(&cfg.Kubeconfig, "%s", strings.Join(strings.Fields(err.Error()), " "))
	}
	rc.QPS, rc.Burst = float32(cfg.KubeQPS), int(cfg.KubeBurst)
	rc.UserAgent = "syncgate/" + buildVersion
	return rc, nil
}

// runAgent wires the parts and runs them until ctx ends.
func runAgent(ctx context.Context, cfg *config, rc *rest.Config, lns *listeners, logger *slog.Logger) error {
	klog.SetSlogLogger(logger.With("component", "client-go"))
	core, err := coreclient.New(rc)
	if err != nil {
		return err
	}
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		return fmt.Errorf("kubernetes dynamic client: %w", err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	if cfg.CacheDir == "" {
		cfg.CacheDir = filepath.Join(os.TempDir(), "syncgate")
	}
	namespaces, err := apply.NewClients(rc, cfg.ApplyServiceAccount)
	if err != nil {
		return fmt.Errorf("kubernetes clients of the managed namespaces: %w", err)
	}
	if err := loadKinds(ctx, namespaces.LoadKinds, startupDiscovery, logger); err != nil {
		return err
	}
	broadcaster := record.NewBroadcaster(record.WithContext(ctx))
	broadcaster.StartRecordingToSink(core.EventSink(context.WithoutCancel(ctx)))
	defer broadcaster.Shutdown()
	kc := kubeClients{core: core, dyn: dyn, namespaces: namespaces,
		events: broadcaster.NewRecorder(core.Scheme(), corev1.EventSource{Component: "syncgate"})}
	parts, err := assemble(ctx, cfg, logger, kc, reg)
	if err != nil {
		return err
	}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return parts.server.Serve(gctx, lns.main) })
	if lns.probes != nil {
		g.Go(func() error { return parts.server.ServeProbes(gctx, lns.probes) })
	}
	g.Go(func() error { return parts.versions.Run(gctx) })
	g.Go(func() error { return parts.syncer.Poll(gctx) })
	if lns.debug != nil {
		g.Go(func() error { return serveDebug(gctx, lns.debug) })
	}
	// leadShard is the work of shard i's leader (of the only leader, shard
	// 0 of 1, without SHARDS): it returns once ctx ends, or as soon as one
	// part returns by itself, so that a term never goes on half-working.
	// What is done once for all namespaces (previews) goes with shard 0.
	leadShard := func(ctx context.Context, i int) error {
		lg, lctx := errgroup.WithContext(ctx)
		part := func(name string, run func(context.Context) error) {
			lg.Go(func() error {
				err := run(lctx)
				if err == nil && lctx.Err() == nil {
					err = fmt.Errorf("%s returned while leading", name)
				}
				return err
			})
		}
		sh := parts.shards[i]
		part("syncer", func(ctx context.Context) error { return parts.syncer.RunNamespaces(ctx, sh.namespaces) })
		part("deliverer", sh.deliverer.Run)
		if parts.previews != nil && i == 0 {
			part("previews", parts.previews.previewer.Run)
			part("preview reports", parts.previews.deliverer.Run)
		}
		return lg.Wait()
	}
	leadShard = leading(reg, cfg, leadShard)
	switch {
	case cfg.Shards > 1:
		g.Go(func() error { return electShards(gctx, cfg, dyn, logger, leadShard) })
	case cfg.LeaderElect:
		g.Go(func() error {
			return elect(gctx, cfg, dyn, logger, func(ctx context.Context) error { return leadShard(ctx, 0) })
		})
	default:
		g.Go(func() error {
			err := leadShard(gctx, 0)
			if gctx.Err() != nil {
				return nil
			}
			// The only replica applies nothing any more: stop, so that it
			// is restarted, rather than serve /wait answers that never come.
			return fmt.Errorf("leader work: %w", err)
		})
	}
	logger.Info("syncgate started", "version", buildVersion, "cluster", cfg.Cluster, "namespaces", cfg.Namespaces,
		"repo", parts.repoDisplay, "listen", cfg.ListenAddr, "probes", cfg.ProbeAddr, "statuses", parts.reportersDesc)
	if cfg.WaitToken == "" {
		logger.Warn("WAIT_TOKEN is empty: /wait, /status, / and /api/v1/versions answer anyone who reaches syncgate, " +
			"object names and failure reasons included")
	}
	err = g.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// leaseTimes are a Lease's duration, renew deadline and retry period: 15s,
// 10s and 2s by default, as Kubernetes' own controllers.
func leaseTimes(d time.Duration) (lease, renew, retry time.Duration) {
	return d, d * 2 / 3, d * 2 / 15
}

// identity names this replica in the Leases: the pod's name, else the host
// name and process id.
func identity(cfg *config) string {
	if cfg.PodName != "" {
		return cfg.PodName
	}
	host, _ := os.Hostname()
	return fmt.Sprintf("%s-%d", host, os.Getpid())
}

// elect runs lead while this replica holds the Lease, and contends again
// after each term, until ctx ends; see leader.
func elect(ctx context.Context, cfg *config, dyn dynamic.Interface, logger *slog.Logger, lead func(context.Context) error) error {
	id := identity(cfg)
	duration, deadline, retry := leaseTimes(cfg.LeaseDuration)
	e, err := lease.New(lease.Config{Client: lease.NewClient(dyn, cfg.LeaseNamespace), Name: "syncgate-leader", Identity: id,
		Duration: duration, RenewDeadline: deadline, RetryPeriod: retry, Logger: logger})
	if err != nil {
		return err
	}
	(&leader{elector: e, id: id, work: lead, log: logger, retryPeriod: retry}).run(ctx)
	return nil
}

// electShards leads the shards this replica is given, each through its own
// Lease, until ctx ends; see sharder.
func electShards(ctx context.Context, cfg *config, dyn dynamic.Interface, logger *slog.Logger, lead func(context.Context, int) error) error {
	s := &sharder{leases: lease.NewClient(dyn, cfg.LeaseNamespace), id: identity(cfg), shards: int(cfg.Shards), work: lead, log: logger}
	s.leaseDuration, s.renewDeadline, s.retryPeriod = leaseTimes(cfg.LeaseDuration)
	return s.run(ctx)
}
