package cluster

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"k8s.io/client-go/rest"

	"github.com/syncgate/syncgate/testing/proc"
)

// Options configure a local control plane.
type Options struct {
	// Nodes is the number of kwok nodes (default 3).
	Nodes int
	// Dir holds data, certificates and logs; a temp dir removed on Stop when empty.
	Dir string
	// Log receives progress lines; nil is quiet.
	Log io.Writer
}

// Cluster is a running local control plane.
type Cluster struct {
	dir        string
	ownDir     bool
	kubeconfig string
	rest       *rest.Config
	procs      []*proc.Proc // in start order: etcd, kube-apiserver, then its clients
	log        io.Writer

	stopOnce sync.Once
}

const nodeAnnotation = "kwok.x-k8s.io/node"

// Start builds (or reuses) the binaries and starts etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler and kwok, each waited on in order,
// then registers the nodes and waits until they are Ready. On failure every
// process already started is stopped and the error carries the end of the
// failing process's log.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.Nodes <= 0 {
		opts.Nodes = 3
	}
	c := &Cluster{dir: opts.Dir, log: opts.Log}
	if c.dir == "" {
		dir, err := os.MkdirTemp("", "syncgate-cluster-")
		if err != nil {
			return nil, fmt.Errorf("cluster dir: %w", err)
		}
		c.dir, c.ownDir = dir, true
	}
	if err := c.start(ctx, opts.Nodes); err != nil {
		c.Stop()
		return nil, fmt.Errorf("start control plane: %w", err)
	}
	return c, nil
}

// addresses are the loopback ports of one control plane.
type addresses struct {
	etcdClient, etcdPeer, api, controllerManager, scheduler, kwok int
}

func (c *Cluster) start(ctx context.Context, nodes int) error {
	bins := map[string]string{}
	for _, t := range []Tool{Etcd, Kube, Kwok} {
		d, err := t.Ensure(ctx, c.logf)
		if err != nil {
			return err
		}
		for _, p := range t.Packages {
			bins[binName(p)] = filepath.Join(d, binName(p))
		}
	}
	began := time.Now()
	ports, err := proc.FreePorts(6)
	if err != nil {
		return fmt.Errorf("free ports: %w", err)
	}
	addr := addresses{ports[0], ports[1], ports[2], ports[3], ports[4], ports[5]}
	for _, d := range []string{c.path("logs"), c.path("pki")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	token, err := writeCredentials(c.path("pki"))
	if err != nil {
		return fmt.Errorf("credentials: %w", err)
	}
	if err := c.startEtcd(ctx, bins["etcd"], addr); err != nil {
		return err
	}
	if err := c.startAPIServer(ctx, bins["kube-apiserver"], addr, token); err != nil {
		return err
	}
	if err := c.startControllers(ctx, bins, addr); err != nil {
		return err
	}
	kwok, err := c.startKwok(ctx, bins["kwok"], addr)
	if err != nil {
		return err
	}
	if err := c.addNodes(ctx, kwok, nodes); err != nil {
		return err
	}
	c.logf("control plane ready in %s: %s", time.Since(began).Round(100*time.Millisecond), c.kubeconfig)
	return nil
}

func (c *Cluster) path(elem ...string) string {
	return filepath.Join(append([]string{c.dir}, elem...)...)
}

func (c *Cluster) startEtcd(ctx context.Context, bin string, addr addresses) error {
	client, peer := "http://"+hostPort(addr.etcdClient), "http://"+hostPort(addr.etcdPeer)
	etcd, err := c.run("etcd", bin,
		"--data-dir", c.path("etcd"),
		"--listen-client-urls", client,
		"--advertise-client-urls", client,
		"--listen-peer-urls", peer,
		"--initial-advertise-peer-urls", peer,
		"--initial-cluster", "default="+peer,
		"--quota-backend-bytes", "4294967296",
		"--unsafe-no-fsync", // test data: durability is not wanted, speed is
	)
	if err != nil {
		return err
	}
	return waitHTTP(ctx, etcd, client+"/health", nil, 60*time.Second)
}

func (c *Cluster) startAPIServer(ctx context.Context, bin string, addr addresses, token string) error {
	pki := c.path("pki")
	api, err := c.run("kube-apiserver", bin,
		"--etcd-servers", "http://"+hostPort(addr.etcdClient),
		"--bind-address", "127.0.0.1",
		"--advertise-address", "127.0.0.1",
		"--secure-port", strconv.Itoa(addr.api),
		"--cert-dir", pki,
		"--token-auth-file", filepath.Join(pki, "tokens.csv"),
		"--authorization-mode", "Node,RBAC",
		"--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file", filepath.Join(pki, "sa.pub"),
		"--service-account-signing-key-file", filepath.Join(pki, "sa.key"),
		"--service-cluster-ip-range", "10.96.0.0/16",
		"--endpoint-reconciler-type", "none",
		"--allow-privileged",
		// One client at a time is the norm here, and tests (and benchmarks)
		// burst; fairness queuing would only add latency.
		"--enable-priority-and-fairness=false",
		"--max-requests-inflight", "2000",
		"--max-mutating-requests-inflight", "1000",
	)
	if err != nil {
		return err
	}
	c.rest = &rest.Config{
		Host:            "https://" + hostPort(addr.api),
		BearerToken:     token,
		TLSClientConfig: rest.TLSClientConfig{Insecure: true},
		QPS:             500,
		Burst:           1000,
	}
	if err := waitHTTP(ctx, api, c.rest.Host+"/readyz", http.Header{"Authorization": {"Bearer " + token}}, 120*time.Second); err != nil {
		return err
	}
	return c.writeKubeconfig(token)
}

// startControllers runs kube-controller-manager and kube-scheduler and waits
// until both answer /healthz.
func (c *Cluster) startControllers(ctx context.Context, bins map[string]string, addr addresses) error {
	common := func(port int, certs string) []string {
		return []string{
			"--kubeconfig", c.kubeconfig,
			"--authentication-kubeconfig", c.kubeconfig,
			"--authorization-kubeconfig", c.kubeconfig,
			"--bind-address", "127.0.0.1",
			"--secure-port", strconv.Itoa(port),
			"--cert-dir", c.path(certs),
			"--leader-elect=false",
		}
	}
	kcm, err := c.run("kube-controller-manager", bins["kube-controller-manager"], append(common(addr.controllerManager, "kcm-certs"),
		// The node lifecycle controller stays: only it lifts the not-ready
		// taint the API server puts on new nodes.
		"--controllers", "*,-nodeipam,-cloud-node-lifecycle",
		"--service-account-private-key-file", c.path("pki", "sa.key"),
		"--root-ca-file", c.path("pki", "apiserver.crt"),
		"--use-service-account-credentials=false",
		"--concurrent-deployment-syncs", "20",
		"--concurrent-replicaset-syncs", "20",
		"--kube-api-qps", "500",
		"--kube-api-burst", "1000",
	)...)
	if err != nil {
		return err
	}
	sched, err := c.run("kube-scheduler", bins["kube-scheduler"], common(addr.scheduler, "scheduler-certs")...)
	if err != nil {
		return err
	}
	if err := waitHTTP(ctx, kcm, "https://"+hostPort(addr.controllerManager)+"/healthz", nil, 90*time.Second); err != nil {
		return err
	}
	return waitHTTP(ctx, sched, "https://"+hostPort(addr.scheduler)+"/healthz", nil, 90*time.Second)
}

func (c *Cluster) startKwok(ctx context.Context, bin string, addr addresses) (*proc.Proc, error) {
	stages, err := writeStages(ctx, c.dir)
	if err != nil {
		return nil, err
	}
	return c.run("kwok", bin,
		"--kubeconfig", c.kubeconfig,
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector", nodeAnnotation+"=fake",
		"--config", stages,
		"--server-address", hostPort(addr.kwok),
		"--node-lease-duration-seconds", "40",
		"--cidr", "10.0.0.1/16",
		"--node-ip", "10.0.0.1",
	)
}

func (c *Cluster) logf(format string, args ...any) {
	if c.log != nil {
		fmt.Fprintf(c.log, "cluster: "+format+"\n", args...)
	}
}

func (c *Cluster) run(name, bin string, args ...string) (*proc.Proc, error) {
	p, err := startProcess(name, bin, c.path("logs"), args...)
	if err != nil {
		return nil, err
	}
	c.procs = append(c.procs, p)
	return p, nil
}

// RESTConfig is an admin client config (system:masters), QPS 500, Burst 1000.
func (c *Cluster) RESTConfig() *rest.Config { return rest.CopyConfig(c.rest) }

// KubeconfigPath is a kubeconfig file for the admin user, for kubectl.
func (c *Cluster) KubeconfigPath() string { return c.kubeconfig }

// Dir holds the cluster's data and logs.
func (c *Cluster) Dir() string { return c.dir }

// Pids are the control plane's processes, each the leader of its own
// process group, for a supervisor that must be able to end them after a
// crash of its own.
func (c *Cluster) Pids() []int {
	pids := make([]int, len(c.procs))
	for i, p := range c.procs {
		pids[i] = p.Pid()
	}
	return pids
}

// Stop ends every process (SIGTERM, then SIGKILL) and removes the temp dir.
// It is safe to call more than once.
func (c *Cluster) Stop() {
	c.stopOnce.Do(func() {
		// The API server's clients first, all at once; then the API server;
		// etcd last, so nothing spends its grace period retrying a store that
		// has gone away.
		const grace = 5 * time.Second
		began := time.Now()
		servers := min(2, len(c.procs))
		var wg sync.WaitGroup
		for _, p := range c.procs[servers:] {
			wg.Go(func() { p.Stop(grace) })
		}
		wg.Wait()
		for i := servers - 1; i >= 0; i-- {
			c.procs[i].Stop(grace)
		}
		if c.ownDir {
			_ = os.RemoveAll(c.dir)
		}
		if len(c.procs) > 0 {
			c.logf("control plane stopped in %s", time.Since(began).Round(10*time.Millisecond))
		}
	})
}
