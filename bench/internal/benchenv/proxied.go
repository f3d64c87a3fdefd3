package benchenv

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/syncgate/syncgate/testing/demo"
)

// ProxiedAgent is one syncgate binary reaching kube-apiserver through a
// counting Proxy of its own.
type ProxiedAgent struct {
	*demo.Agent
	Proxy *Proxy
}

// StartProxiedAgent starts a Proxy to target and the agent o describes
// against it (its kubeconfig written to o.Work, over o.Kubeconfig).
func StartProxiedAgent(ctx context.Context, target *rest.Config, o AgentOptions) (*ProxiedAgent, error) {
	p, err := StartProxy(target)
	if err != nil {
		return nil, err
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["proxy"] = &clientcmdapi.Cluster{Server: p.srv.URL, InsecureSkipTLSVerify: true}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{Token: target.BearerToken}
	cfg.Contexts["proxy"] = &clientcmdapi.Context{Cluster: "proxy", AuthInfo: "admin"}
	cfg.CurrentContext = "proxy"
	o.Kubeconfig = filepath.Join(o.Work, "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, o.Kubeconfig); err != nil {
		p.Close()
		return nil, err
	}
	a, err := StartAgent(ctx, o)
	if err != nil {
		p.Close()
		return nil, err
	}
	return &ProxiedAgent{Agent: a, Proxy: p}, nil
}

// StopAll ends the agent (SIGTERM) and its proxy.
func (a *ProxiedAgent) StopAll() {
	a.Stop(15 * time.Second)
	a.Proxy.Close()
}

// RSS is the agent's resident set: total and anonymous, in MB. The rest
// (file) is pages of the binary itself, mapped from the page cache: the
// kernel can drop them and shares them between replicas on a node.
func (a *ProxiedAgent) RSS() string {
	total, anon := a.Memory()
	return fmt.Sprintf("%.0f MB (anon %.0f)", total, anon)
}

// Memory is the agent's resident set, total and anonymous, in MB.
func (a *ProxiedAgent) Memory() (total, anon float64) {
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
