package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/sync/shard"
	"github.com/syncgate/syncgate/testing/cluster"
	"github.com/syncgate/syncgate/testing/demo"
)

// Three replicas share six namespaces in three shards: each applies the
// namespaces of the shard it leads only, every replica answers /wait for
// all, and a SIGKILLed replica's shard moves to a survivor within the Lease
// time, its commit applied and answered once.
func TestShardsMoveOnKill(t *testing.T) {
	const shards = 3
	e := newEnv(t, "POD_NAME=replica-a", fmt.Sprintf("SHARDS=%d", shards), "LEASE_DURATION=6s")
	nss := []string{e.ns}
	for range 5 {
		ns := cluster.Namespace(t, e.c)
		require.NoError(t, demo.BindServiceAccount(context.Background(), e.kube, ns))
		nss = append(nss, ns)
	}
	e.extra = append(e.extra, "MANAGED_NAMESPACES="+strings.Join(nss, ","))
	files := func(image string) map[string]string {
		m := map[string]string{}
		for _, ns := range nss {
			m[ns+"/deploy.yaml"] = deployment("web", image, "")
		}
		return m
	}
	base := e.commit("base", files("registry.example.com/web:1"))

	logs := map[string]string{"replica-a": e.logPath}
	e.start()
	urls := map[string]string{"replica-a": e.url}
	agents := map[string]*demo.Agent{"replica-a": e.agent}
	for _, name := range []string{"replica-b", "replica-c"} {
		logs[name] = filepath.Join(t.TempDir(), name+".log")
		agents[name] = e.startReplica(name, logs[name])
		urls[name] = agents[name].URL
	}
	// replica-a started alone and took every shard; it gives them up to
	// the others until each leads one.
	holders := e.shardHolders(shards, func(h []string) bool {
		seen := map[string]bool{}
		for _, x := range h {
			if x != "" {
				seen[x] = true
			}
		}
		return len(seen) == shards
	})
	t.Logf("balanced: %v", holders)
	for name, url := range urls {
		code, _ := waitAll(t, url, base)
		require.Equal(t, http.StatusOK, code, name)
	}
	t.Logf("base answered by all")

	next := e.commit("next", files("registry.example.com/web:2"))
	for name, url := range urls {
		code, _ := waitAll(t, url, next)
		require.Equal(t, http.StatusOK, code, name)
	}
	t.Logf("next answered by all")
	for i, h := range holders {
		for name := range logs {
			applied := appliedIn(t, logs[name], next)
			for _, ns := range shard.Split(nss, shards)[i] {
				require.Equal(t, name == h, applied[ns], "%s applied %s of shard %d (led by %s)", name, ns, i, h)
			}
		}
	}

	// SIGKILL the leader of a shard that has namespaces; it gives nothing up.
	victimShard := 0
	for i, p := range shard.Split(nss, shards) {
		if len(p) > 0 {
			victimShard = i
			break
		}
	}
	victim := holders[victimShard]
	agents[victim].Kill()
	delete(urls, victim)
	killed := time.Now()
	third := e.commit("third", files("registry.example.com/web:3"))
	moved := e.shardHolders(shards, func(h []string) bool { return h[victimShard] != "" && h[victimShard] != victim })
	t.Logf("shard %d moved from %s to %s %.1fs after the SIGKILL", victimShard, victim, moved[victimShard], time.Since(killed).Seconds())
	for name, url := range urls {
		code, _ := waitAll(t, url, third)
		require.Equal(t, http.StatusOK, code, name)
	}
	for _, ns := range shard.Split(nss, shards)[victimShard] {
		require.True(t, appliedIn(t, logs[moved[victimShard]], third)[ns], "%s applied %s", moved[victimShard], ns)
	}

	// Every commit has one entry per namespace, deployed, and nothing is
	// left owed.
	store := version.NewStore(e.dyn)
	for _, ns := range nss {
		require.Eventually(t, func() bool {
			v, err := store.Get(context.Background(), ns)
			return err == nil && len(v.Status.Owed) == 0
		}, 30*time.Second, 200*time.Millisecond, ns)
		v, err := store.Get(context.Background(), ns)
		require.NoError(t, err)
		for _, sha := range []string{base, next, third} {
			n := 0
			for _, c := range v.Status.History {
				if c.SHA == sha {
					n++
					require.Equal(t, status.Deployed, c.State, "%s in %s", sha, ns)
				}
			}
			require.Equal(t, 1, n, "%s in %s", sha, ns)
		}
	}
}

// shardHolders waits until the shards' Lease holders satisfy ok and
// returns them, by shard.
func (e *env) shardHolders(shards int, ok func([]string) bool) []string {
	e.t.Helper()
	var h []string
	require.Eventually(e.t, func() bool {
		h = make([]string, shards)
		for i := range shards {
			l, err := e.kube.CoordinationV1().Leases(e.ns).Get(context.Background(), shard.LeaseName(i), metav1.GetOptions{})
			if err == nil && l.Spec.HolderIdentity != nil {
				h[i] = *l.Spec.HolderIdentity
			}
		}
		return ok(h)
	}, 60*time.Second, 100*time.Millisecond, "shard holders")
	return h
}

// waitAll asks url's /wait for sha over every namespace until a final
// answer.
func waitAll(t *testing.T, url, sha string) (int, string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url + "/wait/" + sha + "?timeout=20s")
		require.NoError(t, err)
		b := new(strings.Builder)
		_, _ = fmt.Fprint(b, resp.Status)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusServiceUnavailable {
			return resp.StatusCode, b.String()
		}
	}
	t.Fatalf("no final answer for %s from %s", sha, url)
	return 0, ""
}

var appliedLine = regexp.MustCompile(`msg="commit applied".* namespace=(\S+) sha=([0-9a-f]+)`)

// appliedIn is the namespaces a replica's log says it applied sha to.
func appliedIn(t *testing.T, logPath, sha string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(logPath)
	require.NoError(t, err)
	out := map[string]bool{}
	for _, m := range appliedLine.FindAllStringSubmatch(string(b), -1) {
		if m[2] == sha {
			out[m[1]] = true
		}
	}
	return out
}
