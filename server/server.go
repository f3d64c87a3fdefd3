package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/syncgate/syncgate/server/internal/transport"
	"github.com/syncgate/syncgate/status/lifecycle"
	"github.com/syncgate/syncgate/status/version"
)

// Sentinel errors a Repo returns from Resolve.
var (
	ErrUnknownSHA   = errors.New("unknown sha")
	ErrAmbiguousSHA = errors.New("ambiguous sha")
)

// Repo is the followed config repo as the gateway needs it.
type Repo interface {
	lifecycle.Ancestry
	// Resolve returns the full sha of a prefix on the branch (ErrUnknownSHA, ErrAmbiguousSHA).
	Resolve(prefix string) (string, error)
	// Sync fetches the remote now.
	Sync(ctx context.Context) (string, error)
	// Fetched is closed when the next fetch of the remote ends, whoever
	// made it (a push webhook, the poll, another request), so a request
	// waiting for a sha takes the first fetch that brings it.
	Fetched() <-chan struct{}
}

// Versions is the Version resources of the managed namespaces.
type Versions interface {
	Get(namespace string) *version.Version
	Changed() <-chan struct{}
	Synced() bool
}

// Options configure a Server.
type Options struct {
	Cluster    string
	Namespaces []string
	Repo       Repo
	Versions   Versions
	// Nudge asks for a fetch now (push webhooks).
	Nudge func(sha string)
	// Ready reports whether the first sync happened.
	Ready func() bool
	// Branch is the followed branch, for webhooks.
	Branch func() string
	// RepoURL is the followed remote, for webhooks.
	RepoURL string
	// Commits reads commits' subjects, authors and times for the status
	// page and the delivery metrics; nil shows shas alone.
	Commits CommitLog
	// CommitURL links a commit to its page on the forge; nil links the
	// status page's commits to /status/<sha>.
	CommitURL func(sha string) string
	// Previews, when set, previews pull requests (webhooks, the API and
	// /previews/<sha>); PreviewForks lets requests from forks in.
	Previews     Previews
	PreviewForks bool

	WaitToken          string
	WebhookSecret      string
	DefaultWaitTimeout time.Duration // default 60s
	MaxWaitTimeout     time.Duration // default 30m
	MaxBodyBytes       int64         // webhook bodies, default 25 MiB (GitHub's own cap)
	// FetchEvery is the least time between the fetches that requests for
	// unknown shas cause (default 10s); MaxFetchWaiting caps how many
	// requests may wait for one (default 4096; more are answered 503).
	FetchEvery      time.Duration
	MaxFetchWaiting int

	Logger  *slog.Logger
	Metrics *prometheus.Registry
}

// Server is the HTTP gateway.
type Server struct {
	opts      Options
	log       *slog.Logger
	engine    *gin.Engine
	probes    *gin.Engine
	fetches   fetchGate
	shutdown  chan struct{}
	m         *metrics
	verdicts  verdictCache
	transport *transport.Transport
}

type metrics struct {
	waiters       prometheus.Gauge
	abandoned     prometheus.Counter
	release       prometheus.Histogram
	answers       *prometheus.CounterVec
	webhooks      *prometheus.CounterVec
	watchFailures prometheus.Counter
}

// New checks the options and builds the routes.
func New(opts Options) (*Server, error) {
	if opts.Repo == nil || opts.Versions == nil {
		return nil, errors.New("server: repo and versions are required")
	}
	if len(opts.Namespaces) == 0 {
		return nil, errors.New("server: at least one namespace is required")
	}
	if opts.DefaultWaitTimeout <= 0 {
		opts.DefaultWaitTimeout = 60 * time.Second
	}
	if opts.MaxWaitTimeout <= 0 {
		opts.MaxWaitTimeout = 30 * time.Minute
	}
	if opts.DefaultWaitTimeout > opts.MaxWaitTimeout {
		opts.DefaultWaitTimeout = opts.MaxWaitTimeout
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 25 << 20
	}
	if opts.FetchEvery <= 0 {
		opts.FetchEvery = 10 * time.Second
	}
	if opts.MaxFetchWaiting <= 0 {
		opts.MaxFetchWaiting = 4096
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Ready == nil {
		opts.Ready = func() bool { return true }
	}
	if opts.Nudge == nil {
		opts.Nudge = func(string) {}
	}
	if opts.Branch == nil {
		opts.Branch = func() string { return "" }
	}
	if opts.Metrics == nil {
		opts.Metrics = prometheus.NewRegistry()
	}
	s := &Server{opts: opts, log: opts.Logger, shutdown: make(chan struct{}), m: &metrics{
		waiters:   prometheus.NewGauge(prometheus.GaugeOpts{Name: "syncgate_wait_open", Help: "Long polls waiting now."}),
		abandoned: prometheus.NewCounter(prometheus.CounterOpts{Name: "syncgate_wait_abandoned_total", Help: "Long polls whose client left before an answer."}),
		release: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "syncgate_wait_release_seconds",
			Help:    "From a parked long poll's answer falling due (a Version change, its timeout, shutdown) to the answer written to its connection.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .075, .1, .15, .25, .5, 1, 2.5}}),
		answers: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "syncgate_wait_responses_total", Help: "/wait answers by HTTP code."}, []string{"code"}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "syncgate_webhook_requests_total",
			Help: "Push webhooks by provider and result."}, []string{"provider", "result"}),
		watchFailures: prometheus.NewCounter(prometheus.CounterOpts{Name: "syncgate_socket_watch_failures_total",
			Help: "Epoll sets (client hang-ups, first bytes of new connections) that failed and stopped until restart."}),
	}}
	for _, c := range []prometheus.Collector{s.m.waiters, s.m.abandoned, s.m.release, s.m.answers, s.m.webhooks, s.m.watchFailures} {
		if err := opts.Metrics.Register(c); err != nil {
			return nil, err
		}
	}
	if err := opts.Metrics.Register(deliveryCollector{s}); err != nil {
		return nil, err
	}
	s.transport = transport.New(transport.Options{
		Generation: opts.Versions.Changed,
		Stop:       s.shutdown,
		Log:        opts.Logger,
		Metrics: transport.Metrics{
			Waiting:       s.m.waiters,
			Abandoned:     s.m.abandoned,
			Release:       s.m.release,
			Answered:      func(code, n int) { s.m.answers.WithLabelValues(strconv.Itoa(code)).Add(float64(n)) },
			WatchFailures: s.m.watchFailures,
		},
	})
	s.fetches = fetchGate{every: opts.FetchEvery, maxWaiting: opts.MaxFetchWaiting, grace: fetchGrace, fetch: opts.Repo.Sync, fetched: opts.Repo.Fetched, stop: s.shutdown}
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.Use(gin.Recovery(), s.accessLog)
	// The probes stay on the main listener too, for probes and scrapers
	// configured before the probe listener existed.
	s.probeRoutes(e)
	e.POST("/hooks/github", s.githubHook)
	e.POST("/hooks/gitlab", s.gitlabHook)
	guarded := e.Group("/", s.auth)
	guarded.GET("/", s.overview)
	guarded.GET("/events", s.events)
	guarded.GET("/wait/:sha", s.wait)
	guarded.GET("/status/:sha", s.status)
	guarded.GET("/api/v1/versions", s.versions)
	s.previewRoutes(guarded)
	routeErrors(e)
	s.engine = e
	s.probes = gin.New()
	s.probes.Use(gin.Recovery())
	s.probeRoutes(s.probes)
	routeErrors(s.probes)
	return s, nil
}

// routeErrors answers a path no route serves (404) and a method the path
// is not served with (405, with the Allow header gin sets) in JSON, the
// shape of the other errors, on either listener.
func routeErrors(e *gin.Engine) {
	e.HandleMethodNotAllowed = true
	e.NoRoute(func(c *gin.Context) {
		c.JSON(http.StatusNotFound, gin.H{"state": "error", "error": "no such route: " + truncate(c.Request.URL.Path, 200)})
	})
	e.NoMethod(func(c *gin.Context) {
		c.JSON(http.StatusMethodNotAllowed, gin.H{"state": "error", "error": fmt.Sprintf("method %s is not allowed on %s (allowed: %s)",
			truncate(c.Request.Method, 20), truncate(c.Request.URL.Path, 200), c.Writer.Header().Get("Allow"))})
	})
}

func (s *Server) probeRoutes(r gin.IRoutes) {
	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(s.opts.Metrics, promhttp.HandlerOpts{})))
}

// Handler is the gateway as an http.Handler.
func (s *Server) Handler() http.Handler { return s.engine }

// ServeProbes serves /healthz, /readyz and /metrics on ln until ctx ends:
// a listener of their own, which no amount of /wait traffic or silent
// connections on the main one can slow.
func (s *Server) ServeProbes(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.probes,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("probe listener shutdown: %w", err)
	}
	return nil
}

// Serve is Run on a given listener.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { transport.Admitted(r); s.engine.ServeHTTP(w, r) }),
		ConnContext:       transport.ConnContext,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// Long polls write once, at the end: the write deadline must outlast them.
		WriteTimeout: s.opts.MaxWaitTimeout + 30*time.Second,
		IdleTimeout:  2 * time.Minute,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(s.transport.Listen(ln)) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	close(s.shutdown)
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	select { // parked waiters are told to retry before the listener goes
	case <-s.transport.Drained():
	case <-sctx.Done():
	}
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("http shutdown: %w", err)
	}
	return nil
}

func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	if c.Request.URL.Path == "/healthz" || c.Request.URL.Path == "/readyz" || c.Request.URL.Path == "/metrics" {
		return
	}
	s.log.Debug("http request", "method", c.Request.Method, "path", c.Request.URL.Path, "code", c.Writer.Status(), "duration", time.Since(start))
}

// auth requires the bearer WAIT_TOKEN when one is configured.
func (s *Server) auth(c *gin.Context) {
	if s.opts.WaitToken == "" {
		return
	}
	h := c.GetHeader("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(s.opts.WaitToken)) != 1 {
		c.Header("WWW-Authenticate", `Bearer realm="syncgate"`)
		c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"state": "error", "error": "missing or wrong bearer token (WAIT_TOKEN)"})
	}
}

func (s *Server) readyz(c *gin.Context) {
	if !s.opts.Versions.Synced() || !s.opts.Ready() {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "starting", "versions_synced": s.opts.Versions.Synced(), "repo_fetched": s.opts.Ready()})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

func (s *Server) versions(c *gin.Context) {
	out := map[string]any{}
	for _, ns := range s.opts.Namespaces {
		v := s.opts.Versions.Get(ns)
		if v == nil {
			out[ns] = nil
			continue
		}
		out[ns] = v.Status
	}
	c.JSON(http.StatusOK, gin.H{"cluster": s.opts.Cluster, "namespaces": out})
}
