package main

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A variable set to nothing, as a ConfigMap's blank key sets it, turns off
// what the setting's documentation says empty turns off; for any other
// setting it is as good as unset, and the built-in default holds.
func TestEmptyVariableTurnsOffWhatEmptyTurnsOff(t *testing.T) {
	env := map[string]string{"CONFIG_REPO": "https://git.example.com/c.git", "CLUSTER_NAME": "c1", "MANAGED_NAMESPACES": "a",
		"PROBE_ADDR": "", "APPLY_SERVICE_ACCOUNT": "", "LISTEN_ADDR": "", "GIT_SYNC_INTERVAL": "", "PRUNE": "", "KUBE_API_QPS": "",
		"DEPLOYMENT_ENVIRONMENT": ""}
	c, err := parseWith(t, env)
	require.NoError(t, err)
	require.Empty(t, c.ProbeAddr, "PROBE_ADDR empty: no probe listener")
	require.Equal(t, "syncgate", c.ApplyServiceAccount, "APPLY_SERVICE_ACCOUNT empty: still confined; only the flag lifts it")
	require.Equal(t, ":8080", c.ListenAddr)
	require.Equal(t, time.Minute, c.PollInterval)
	require.True(t, c.Prune)
	require.EqualValues(t, 200, c.KubeQPS)
	require.Equal(t, "{{.Cluster}}/{{.Namespace}}", c.DeploymentEnvironment)

	fs, _ := bindOnly("PROBE_ADDR", "")
	require.Empty(t, fs.Lookup("probe-addr").DefValue, "--help shows what the variable makes it")
	fs, _ = bindOnly("LISTEN_ADDR", "")
	require.Equal(t, ":8080", fs.Lookup("listen").DefValue)
}

// The rule has one home, and the usage says it: a setting whose empty
// value means something other than its default says so in its usage, and
// takes empty from a variable.
func TestEmptyIsAValueWhereTheUsageSaysSo(t *testing.T) {
	for _, s := range (&config{}).settings() {
		if s.def != "" && strings.Contains(s.usage, "empty") {
			require.True(t, emptyIsValue(s.val), s.env)
		}
		if emptyIsValue(s.val) {
			require.Contains(t, s.usage, "empty", s.env)
		}
	}
}

// An address in use stops start-up at once, in one line naming the
// setting, before the slow parts (discovery) begin.
func TestAnAddressInUseStopsStartup(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()

	_, err = listen(&config{ListenAddr: taken.Addr().String()})
	requireOneLine(t, err, "invalid setting LISTEN_ADDR (--listen): listen tcp "+taken.Addr().String())
	_, err = listen(&config{ListenAddr: "127.0.0.1:0", ProbeAddr: taken.Addr().String()})
	requireOneLine(t, err, "invalid setting PROBE_ADDR (--probe-addr)")
	_, err = listen(&config{ListenAddr: "127.0.0.1:0", DebugAddr: taken.Addr().String()})
	requireOneLine(t, err, "invalid setting DEBUG_ADDR (--debug-addr)")

	for _, probes := range []string{"", "127.0.0.1:0"} {
		l, err := listen(&config{ListenAddr: "127.0.0.1:0", ProbeAddr: probes})
		require.NoError(t, err)
		require.Nil(t, l.probes, "PROBE_ADDR %q: no listener of their own", probes)
		require.Nil(t, l.debug)
		l.close()
	}
	l, err := listen(&config{ListenAddr: "localhost:0", ProbeAddr: "127.0.0.1:0", DebugAddr: "127.0.0.1:0"})
	require.NoError(t, err)
	require.NotNil(t, l.probes)
	require.NotNil(t, l.debug)
	l.close()
}

// A kubeconfig that is missing, unreadable or not one, or no in-cluster
// configuration when none is named, stops start-up with one line naming
// KUBECONFIG (exit 3), not a log line after start-up.
func TestKubeconfigIsCheckedAtStart(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage")
	require.NoError(t, os.WriteFile(garbage, []byte("{clusters: [unclosed\n  - x"), 0o600))
	empty := filepath.Join(dir, "empty")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	for name, tc := range map[string]struct{ kubeconfig, want string }{
		"missing":      {"/nonexistent", "invalid setting KUBECONFIG (--kubeconfig): "},
		"not yaml":     {garbage, "invalid setting KUBECONFIG (--kubeconfig): "},
		"empty":        {empty, "invalid setting KUBECONFIG (--kubeconfig): "},
		"not in a pod": {"", "invalid setting KUBECONFIG (--kubeconfig): not set, and no in-cluster configuration"},
	} {
		t.Run(name, func(t *testing.T) {
			err := startWith(t, map[string]string{"CONFIG_REPO": "https://git.example.com/c.git", "CLUSTER_NAME": "c1",
				"MANAGED_NAMESPACES": "a", "KUBECONFIG": tc.kubeconfig, "KUBERNETES_SERVICE_HOST": "", "POD_NAMESPACE": ""})
			requireOneLine(t, err, tc.want)
		})
	}
}

// startWith runs `syncgate run` with the variables of env set, and wants
// it stopped at start with a usage error (exit 3).
func startWith(t *testing.T, env map[string]string) error {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	cmd := newRunCmd()
	cmd.SetArgs(nil)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	err := cmd.ExecuteContext(context.Background())
	var ex *exitError
	require.ErrorAs(t, err, &ex)
	require.Equal(t, exitUsage, ex.code)
	return err
}

// writeKubeconfig writes a kubeconfig that reads, of an API server that
// is not there.
func writeKubeconfig(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(path, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
users: [{name: u, user: {token: x}}]
current-context: c
`), 0o600))
	return path
}

// PROBE_ADDR naming LISTEN_ADDR's address spelled otherwise (":8080",
// "0.0.0.0:8080" and "[::]:8080" are all interfaces, a port may have
// leading zeros) is LISTEN_ADDR, as when the text is the same: the probes
// stay on the main listener, and start-up does not fail binding it twice.
func TestProbeAddrSpelledOtherwiseIsListenAddr(t *testing.T) {
	free, err := net.Listen("tcp", ":0")
	require.NoError(t, err)
	port := strconv.Itoa(free.Addr().(*net.TCPAddr).Port)
	require.NoError(t, free.Close())
	for _, tc := range []struct{ listen, probes string }{
		{":" + port, "0.0.0.0:" + port},
		{"0.0.0.0:" + port, ":" + port},
		{":" + port, "[::]:" + port},
		{"[::]:" + port, "[0:0::0]:" + port},
		{":" + port, ":0" + port},
		{"127.0.0.1:" + port, "[::ffff:127.0.0.1]:" + port},
		{"LocalHost:" + port, "localhost:" + port},
	} {
		t.Run(tc.listen+" "+tc.probes, func(t *testing.T) {
			l, err := listen(&config{ListenAddr: tc.listen, ProbeAddr: tc.probes})
			require.NoError(t, err)
			defer l.close()
			require.Nil(t, l.probes, "no listener of their own")
		})
	}
	for _, tc := range []struct{ a, b string }{
		{":8080", "127.0.0.1:8080"}, {"127.0.0.1:8080", "[::1]:8080"}, {":8080", ":8081"}, {"localhost:8080", "127.0.0.1:8080"},
	} {
		require.False(t, sameListenAddr(tc.a, tc.b), "%s and %s", tc.a, tc.b)
	}
}
