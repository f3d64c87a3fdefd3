package cluster

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

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
	procs      []*proc.Proc
	log        io.Writer

	stopOnce sync.Once
}

const nodeAnnotation = "kwok.x-k8s.io/node"

// Start builds (or reuses) the binaries and starts etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler and kwok, each waited on in order,
// then registers the nodes and waits until they are Ready.
func Start(ctx context.Context, opts Options) (c *Cluster, err error) {
	if opts.Nodes <= 0 {
		opts.Nodes = 3
	}
	c = &Cluster{dir: opts.Dir, log: opts.Log}
	if c.dir == "" {
		if c.dir, err = os.MkdirTemp("", "syncgate-cluster-"); err != nil {
			return nil, err
		}
		c.ownDir = true
	}
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()
	bins := map[string]string{}
	for _, t := range []Tool{Etcd, Kube, Kwok} {
		d, err := t.Ensure(ctx, c.logf)
		if err != nil {
			return nil, err
		}
		for _, p := range t.Packages {
			bins[binName(p)] = filepath.Join(d, binName(p))
		}
	}
	start := time.Now()
	ports, err := freePorts(6)
	if err != nil {
		return nil, err
	}
	etcdClient, etcdPeer, apiPort, kcmPort, schedPort, kwokPort := ports[0], ports[1], ports[2], ports[3], ports[4], ports[5]
	logs := filepath.Join(c.dir, "logs")
	pki := filepath.Join(c.dir, "pki")
	for _, d := range []string{logs, pki} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	token, err := c.writeCredentials(pki)
	if err != nil {
		return nil, err
	}

	etcd, err := c.run("etcd", bins["etcd"], logs,
		"--data-dir", filepath.Join(c.dir, "etcd"),
		"--listen-client-urls", "http://"+hostPort(etcdClient),
		"--advertise-client-urls", "http://"+hostPort(etcdClient),
		"--listen-peer-urls", "http://"+hostPort(etcdPeer),
		"--initial-advertise-peer-urls", "http://"+hostPort(etcdPeer),
		"--initial-cluster", "default=http://"+hostPort(etcdPeer),
		"--quota-backend-bytes", "4294967296",
		"--unsafe-no-fsync", // test data: durability is not wanted, speed is
	)
	if err != nil {
		return nil, err
	}
	if err := waitHTTP(ctx, etcd, "http://"+hostPort(etcdClient)+"/health", nil, 60*time.Second); err != nil {
		return nil, err
	}

	api, err := c.run("kube-apiserver", bins["kube-apiserver"], logs,
		"--etcd-servers", "http://"+hostPort(etcdClient),
		"--bind-address", "127.0.0.1",
		"--advertise-address", "127.0.0.1",
		"--secure-port", fmt.Sprint(apiPort),
		"--cert-dir", pki,
		"--token-auth-file", filepath.Join(pki, "tokens.csv"),
		"--authorization-mode", "Node,RBAC",
		"--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file", filepath.Join(pki, "sa.pub"),
		"--service-account-signing-key-file", filepath.Join(pki, "sa.key"),
		"--service-cluster-ip-range", "10.96.0.0/16",
		"--endpoint-reconciler-type", "none",
		"--allow-privileged",
		"--enable-priority-and-fairness=false",
		"--max-requests-inflight", "2000",
		"--max-mutating-requests-inflight", "1000",
	)
	if err != nil {
		return nil, err
	}
	c.rest = &rest.Config{
		Host:            "https://" + hostPort(apiPort),
		BearerToken:     token,
		TLSClientConfig: rest.TLSClientConfig{Insecure: true},
		QPS:             500,
		Burst:           1000,
	}
	if err := waitHTTP(ctx, api, c.rest.Host+"/readyz", map[string]string{"Authorization": "Bearer " + token}, 120*time.Second); err != nil {
		return nil, err
	}
	if err := c.writeKubeconfig(token); err != nil {
		return nil, err
	}

	kcm, err := c.run("kube-controller-manager", bins["kube-controller-manager"], logs,
		"--kubeconfig", c.kubeconfig,
		"--authentication-kubeconfig", c.kubeconfig,
		"--authorization-kubeconfig", c.kubeconfig,
		"--bind-address", "127.0.0.1",
		"--secure-port", fmt.Sprint(kcmPort),
		"--cert-dir", filepath.Join(c.dir, "kcm-certs"),
		"--leader-elect=false",
		"--controllers", "*,-nodeipam,-cloud-node-lifecycle",
		"--service-account-private-key-file", filepath.Join(pki, "sa.key"),
		"--root-ca-file", filepath.Join(pki, "apiserver.crt"),
		"--use-service-account-credentials=false",
		"--concurrent-deployment-syncs", "20",
		"--concurrent-replicaset-syncs", "20",
		"--kube-api-qps", "500",
		"--kube-api-burst", "1000",
	)
	if err != nil {
		return nil, err
	}
	sched, err := c.run("kube-scheduler", bins["kube-scheduler"], logs,
		"--kubeconfig", c.kubeconfig,
		"--authentication-kubeconfig", c.kubeconfig,
		"--authorization-kubeconfig", c.kubeconfig,
		"--bind-address", "127.0.0.1",
		"--secure-port", fmt.Sprint(schedPort),
		"--cert-dir", filepath.Join(c.dir, "scheduler-certs"),
		"--leader-elect=false",
	)
	if err != nil {
		return nil, err
	}
	for _, p := range []struct {
		proc *proc.Proc
		port int
	}{{kcm, kcmPort}, {sched, schedPort}} {
		if err := waitHTTP(ctx, p.proc, "https://"+hostPort(p.port)+"/healthz", nil, 90*time.Second); err != nil {
			return nil, err
		}
	}

	stages, err := writeStages(ctx, c.dir)
	if err != nil {
		return nil, err
	}
	kwok, err := c.run("kwok", bins["kwok"], logs,
		"--kubeconfig", c.kubeconfig,
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector", nodeAnnotation+"=fake",
		"--config", stages,
		"--server-address", hostPort(kwokPort),
		"--node-lease-duration-seconds", "40",
		"--cidr", "10.0.0.1/16",
		"--node-ip", "10.0.0.1",
	)
	if err != nil {
		return nil, err
	}
	if err := c.addNodes(ctx, kwok, opts.Nodes); err != nil {
		return nil, err
	}
	c.logf("control plane ready in %s: %s", time.Since(start).Round(100*time.Millisecond), c.kubeconfig)
	return c, nil
}

func (c *Cluster) logf(format string, args ...any) {
	if c.log != nil {
		fmt.Fprintf(c.log, "cluster: "+format+"\n", args...)
	}
}

func (c *Cluster) run(name, bin, logs string, args ...string) (*proc.Proc, error) {
	p, err := startProcess(name, bin, logs, args...)
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

// Stop ends every process (SIGTERM, then SIGKILL) and removes the temp dir.
// It is safe to call more than once.
func (c *Cluster) Stop() {
	c.stopOnce.Do(func() {
		for i := len(c.procs) - 1; i >= 0; i-- {
			c.procs[i].Stop(5 * time.Second)
		}
		if c.ownDir {
			_ = os.RemoveAll(c.dir)
		}
	})
}

// writeCredentials creates the admin token file and the service-account key pair.
func (c *Cluster) writeCredentials(pki string) (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	token := hex.EncodeToString(b)
	if err := os.WriteFile(filepath.Join(pki, "tokens.csv"), []byte(token+`,admin,admin,"system:masters"`+"\n"), 0o600); err != nil {
		return "", err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(pki, "sa.key"), pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		return "", err
	}
	return token, os.WriteFile(filepath.Join(pki, "sa.pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o600)
}

func (c *Cluster) writeKubeconfig(token string) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["local"] = &clientcmdapi.Cluster{Server: c.rest.Host, InsecureSkipTLSVerify: true}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts["local"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: "admin", Namespace: "default"}
	cfg.CurrentContext = "local"
	c.kubeconfig = filepath.Join(c.dir, "kubeconfig")
	return clientcmd.WriteToFile(*cfg, c.kubeconfig)
}

// addNodes registers kwok nodes and waits until they are Ready and the
// controllers have created the default ServiceAccount.
func (c *Cluster) addNodes(ctx context.Context, kwok *proc.Proc, n int) error {
	kube, err := kubernetes.NewForConfig(c.rest)
	if err != nil {
		return err
	}
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("64"),
		corev1.ResourceMemory: resource.MustParse("256Gi"),
		corev1.ResourcePods:   resource.MustParse("1000"),
	}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("kwok-node-%d", i)
		node := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{
				Name:        name,
				Annotations: map[string]string{nodeAnnotation: "fake"},
				Labels:      map[string]string{"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", "type": "kwok"},
			},
			Status: corev1.NodeStatus{Capacity: capacity, Allocatable: capacity},
		}
		if _, err := kube.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create node %s: %w", name, err)
		}
	}
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 90*time.Second, true, func(ctx context.Context) (bool, error) {
		if kwok.Exited() {
			return false, failure(kwok, "exited before nodes were ready")
		}
		nodes, err := kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		ready := 0
		for _, nd := range nodes.Items {
			for _, cond := range nd.Status.Conditions {
				if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue && !hasNotReadyTaint(nd) {
					ready++
				}
			}
		}
		if ready < n {
			return false, nil
		}
		_, err = kube.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	})
	if err != nil {
		return fmt.Errorf("nodes not ready: %w", err)
	}
	return nil
}

func hasNotReadyTaint(n corev1.Node) bool {
	for _, t := range n.Spec.Taints {
		if strings.HasPrefix(t.Key, "node.kubernetes.io/not-ready") || strings.HasPrefix(t.Key, "node.kubernetes.io/unreachable") {
			return true
		}
	}
	return false
}

// waitHTTP polls url until it answers 200, the process dies, or the time is up.
func waitHTTP(ctx context.Context, p *proc.Proc, url string, headers map[string]string, timeout time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second, Transport: insecureTransport()}
	var last string
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		if p.Exited() {
			return false, failure(p, "exited during start-up")
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			last = err.Error()
			return false, nil
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		last = fmt.Sprintf("%d %s", resp.StatusCode, body)
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		if p.Exited() {
			return failure(p, "exited during start-up")
		}
		return failure(p, fmt.Sprintf("not healthy at %s: %s (%v)", url, tail(last, 500), err))
	}
	return nil
}
