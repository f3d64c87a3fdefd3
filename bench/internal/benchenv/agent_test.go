package benchenv

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The agent's own namespace is the first managed one unless named, and
// the benchmark's settings come after the common ones, so they win.
func TestAgentEnv(t *testing.T) {
	o := AgentOptions{Work: "/w", RepoURL: "http://git/config", Kubeconfig: "/k", Namespaces: []string{"a", "b"}, Secret: "s",
		Env: []string{"LEADER_ELECT=false", "GIT_SYNC_INTERVAL=5s"}}
	require.Equal(t, []string{
		"CONFIG_REPO=http://git/config", "CLUSTER_NAME=bench", "MANAGED_NAMESPACES=a,b", "POD_NAMESPACE=a", "KUBECONFIG=/k",
		"GIT_SYNC_INTERVAL=1h", "CACHE_DIR=/w/cache", "WEBHOOK_SECRET=s", "LOG_FORMAT=text", "LEADER_ELECT=false", "GIT_SYNC_INTERVAL=5s",
	}, o.env())
	o.Own = "syncgate-system"
	require.Contains(t, o.env(), "POD_NAMESPACE=syncgate-system")
	require.NotContains(t, o.env(), "POD_NAMESPACE=a")
}
