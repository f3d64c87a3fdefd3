package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/syncgate/syncgate/bench/internal/benchenv"
	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/testing/cluster"
	"github.com/syncgate/syncgate/testing/demo"
)

const secret = "bench-scale-secret"

// agent is one syncgate binary running against the proxy.
type agent struct {
	*demo.Agent
	proxy *apiProxy
}

func startAgent(ctx context.Context, bin, work string, c *cluster.Cluster, repoURL string, namespaces []string, env []string) (*agent, error) {
	p, err := startProxy(c.RESTConfig())
	if err != nil {
		return nil, err
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["proxy"] = &clientcmdapi.Cluster{Server: p.srv.URL, InsecureSkipTLSVerify: true}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{Token: c.RESTConfig().BearerToken}
	cfg.Contexts["proxy"] = &clientcmdapi.Context{Cluster: "proxy", AuthInfo: "admin"}
	cfg.CurrentContext = "proxy"
	kubeconfig := filepath.Join(work, "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, kubeconfig); err != nil {
		return nil, err
	}
	a, err := benchenv.StartAgent(ctx, benchenv.AgentOptions{
		Bin: bin, Work: work, RepoURL: repoURL, Kubeconfig: kubeconfig, Namespaces: namespaces, Secret: secret,
		Env: append([]string{"APPLY_SERVICE_ACCOUNT=" + demo.ApplyServiceAccount}, env...),
	})
	if err != nil {
		p.close()
		return nil, err
	}
	return &agent{Agent: a, proxy: p}, nil
}

func (a *agent) stop() {
	a.Stop(15 * time.Second)
	a.proxy.close()
}

// rss is the agent's resident set: total and anonymous, in MB. The rest
// (file) is pages of the binary itself, mapped from the page cache: the
// kernel can drop them and shares them between replicas on a node.
func (a *agent) rss() string {
	total, anon := a.memory()
	return fmt.Sprintf("%.0f MB (anon %.0f)", total, anon)
}

// memory is the agent's resident set, total and anonymous, in MB.
func (a *agent) memory() (total, anon float64) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", a.Pid()))
	if err != nil {
		return -1, -1
	}
	defer f.Close()
	kb := map[string]float64{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		name, rest, ok := strings.Cut(s.Text(), ":")
		if ok && (name == "VmRSS" || name == "RssAnon") {
			kb[name], _ = strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
		}
	}
	return kb["VmRSS"] / 1024, kb["RssAnon"] / 1024
}

// versions follows every Version: when each namespace first showed each
// commit deployed (by itself or carried), and how often each was written.
type versions struct {
	mu       sync.Mutex
	deployed map[string]map[string]time.Time // sha → namespace → when
	writes   map[string]int                  // namespace → status writes seen
	wake     chan struct{}
}

func watchVersions(ctx context.Context, c *cluster.Cluster) (*versions, error) {
	vs := &versions{deployed: map[string]map[string]time.Time{}, writes: map[string]int{}, wake: make(chan struct{}, 1)}
	return vs, benchenv.WatchVersions(ctx, c.RESTConfig(), "", vs.note)
}

func (vs *versions) note(v *version.Version, now time.Time) {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	vs.writes[v.Namespace]++
	for _, c := range v.Status.History {
		if c.State != status.Deployed && (c.State != status.Superseded || c.Outcome != status.Deployed) {
			continue
		}
		m := vs.deployed[c.SHA]
		if m == nil {
			m = map[string]time.Time{}
			vs.deployed[c.SHA] = m
		}
		if _, ok := m[v.Namespace]; !ok {
			m[v.Namespace] = now
		}
	}
	select {
	case vs.wake <- struct{}{}:
	default:
	}
}

// await waits until sha is deployed in every namespace and returns when the
// last one showed it.
func (vs *versions) await(ctx context.Context, sha string, namespaces []string, limit time.Duration) (time.Time, error) {
	deadline := time.After(limit)
	for {
		vs.mu.Lock()
		var last time.Time
		missing := 0
		for _, ns := range namespaces {
			t, ok := vs.deployed[sha][ns]
			if !ok {
				missing++
			}
			if t.After(last) {
				last = t
			}
		}
		vs.mu.Unlock()
		if missing == 0 {
			return last, nil
		}
		select {
		case <-vs.wake:
		case <-deadline:
			return time.Time{}, fmt.Errorf("%s not deployed in %d of %d namespaces after %s", status.ShortSHA(sha), missing, len(namespaces), limit)
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		}
	}
}

// writesTo sums the status writes seen so far in namespaces.
func (vs *versions) writesTo(namespaces []string) int {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	n := 0
	for _, ns := range namespaces {
		n += vs.writes[ns]
	}
	return n
}
