package cluster

import (
	"errors"
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// A second, private control plane: Stop must leave no process and no
// directory behind, and a second Stop must be harmless.
func TestStopEndsEveryProcessAndRemovesItsDir(t *testing.T) {
	if testing.Short() || os.Getenv("SYNCGATE_SKIP_CLUSTER") != "" {
		t.Skip("needs the local control plane")
	}
	c, err := Start(t.Context(), Options{Nodes: 1})
	require.NoError(t, err)
	t.Cleanup(c.Stop)

	require.Len(t, c.procs, 5, "etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok")
	var pids []int
	for _, p := range c.procs {
		require.NoError(t, syscall.Kill(p.Pid(), 0), "%s running", p.Name)
		pids = append(pids, p.Pid())
	}
	require.DirExists(t, c.Dir())

	c.Stop()
	for i, pid := range pids {
		require.True(t, errors.Is(syscall.Kill(-pid, 0), syscall.ESRCH), "process group of %s still exists", c.procs[i].Name)
	}
	require.NoDirExists(t, c.Dir())
	c.Stop()
}
