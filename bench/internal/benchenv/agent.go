package benchenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/syncgate/syncgate/server/waitclient"
	"github.com/syncgate/syncgate/testing/demo"
	"github.com/syncgate/syncgate/testing/proc"
)

// AgentOptions are the settings every benchmark gives the agent: cluster
// "bench", polling every hour (pushes come with a webhook), text logs.
type AgentOptions struct {
	Bin string
	// Work holds the agent's log (syncgate.log) and its cache; it is
	// created if need be.
	Work       string
	RepoURL    string
	Kubeconfig string
	// Namespaces are managed.
	Namespaces []string
	// Own is the agent's own namespace (POD_NAMESPACE); empty: the first
	// of Namespaces.
	Own string
	// Secret signs the webhooks.
	Secret string
	// Env are more settings, after (and so over) the ones above.
	Env []string
}

// StartAgent runs `syncgate run` on a free port and waits until it serves.
func StartAgent(ctx context.Context, o AgentOptions) (*demo.Agent, error) {
	addr, err := proc.FreeAddr()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.Work, 0o755); err != nil {
		return nil, err
	}
	return demo.StartAgent(ctx, o.Bin, addr, filepath.Join(o.Work, "syncgate.log"), o.env())
}

// env is the agent's environment beyond the process's own.
func (o AgentOptions) env() []string {
	own := o.Own
	if own == "" {
		own = o.Namespaces[0]
	}
	return append([]string{
		"CONFIG_REPO=" + o.RepoURL,
		"CLUSTER_NAME=bench",
		"MANAGED_NAMESPACES=" + strings.Join(o.Namespaces, ","),
		"POD_NAMESPACE=" + own,
		"KUBECONFIG=" + o.Kubeconfig,
		"GIT_SYNC_INTERVAL=1h",
		"CACHE_DIR=" + filepath.Join(o.Work, "cache"),
		"WEBHOOK_SECRET=" + o.Secret,
		"LOG_FORMAT=text",
	}, o.Env...)
}

// WaitDeployed waits, as `syncgate wait` does, until the agent at url
// reports sha deployed in namespace.
func WaitDeployed(ctx context.Context, url, namespace, sha string) error {
	res := waitclient.Wait(ctx, sha, waitclient.Options{URLs: []string{url}, Namespace: namespace, Timeout: 2 * time.Minute})
	if res.Outcome != waitclient.Deployed {
		return fmt.Errorf("/wait: %.7s not deployed: %v", sha, res.Err)
	}
	return nil
}
