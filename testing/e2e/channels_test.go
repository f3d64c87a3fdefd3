package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/s3marker"
)

// One real rollout ends with the Version, S3 and the forge agreeing.
func TestChannelsAgree(t *testing.T) {
	gh, e := githubEnv(t, []string{"acme/config"})
	ns := e.ns
	good := e.commit("good", map[string]string{ns + "/deploy.yaml": deployment("web", "registry.example.com/web:1", "")})
	e.start()
	code, _ := e.waitFinal(good)
	require.Equal(t, http.StatusOK, code)
	bad := e.commit("bad", map[string]string{ns + "/deploy.yaml": deployment("web", "registry.example.com/web:2", "syncgate.dev/test-fail: crashloop")})
	code, _ = e.waitFinal(bad)
	require.Equal(t, http.StatusConflict, code)

	ctx := context.Background()
	context := "syncgate/e2e/" + ns
	for sha, want := range map[string]struct {
		forge string
		state status.State
	}{good: {"success", status.Deployed}, bad: {"failure", status.Failed}} {
		require.Eventually(t, func() bool {
			last, ok := gh.Latest("acme/config", sha, context)
			return ok && last.State == want.forge
		}, 15*time.Second, 20*time.Millisecond, sha)
		last, _ := gh.Latest("acme/config", sha, context)
		require.Equal(t, "https://syncgate.example.com/status/"+sha, last.TargetURL)
		var states []string
		for _, s := range gh.Statuses("acme/config", sha) {
			states = append(states, s.State)
		}
		require.Equal(t, "pending", states[0], "pending first, final last")

		require.Eventually(t, func() bool {
			_, err := s3marker.Read(ctx, e.s3.Client(), "markers", s3marker.ResultKey("", "e2e", ns, sha))
			return err == nil
		}, 15*time.Second, 20*time.Millisecond)
		b, err := s3marker.Read(ctx, e.s3.Client(), "markers", s3marker.ResultKey("", "e2e", ns, sha))
		require.NoError(t, err)
		var res s3marker.Result
		require.NoError(t, json.Unmarshal(b, &res))
		require.Equal(t, want.state, res.State)

		c := findCommit(e, sha)
		require.Equal(t, want.state, c.State)
	}
	last, _ := gh.Latest("acme/config", bad, context)
	require.Contains(t, last.Description, "CrashLoopBackOff")
}
