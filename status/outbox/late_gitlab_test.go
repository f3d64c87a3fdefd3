package outbox_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	gitlab "gitlab.com/gitlab-org/api/client-go"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/deployment"
	"github.com/syncgate/syncgate/status/gitlabdeploy"
	"github.com/syncgate/syncgate/status/gitlabstatus"
	"github.com/syncgate/syncgate/status/outbox"
	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/testing/forge"
)

// A commit whose outcome is reported late, after more than a thousand
// newer deployments to its environment (an outage, a busy environment),
// moves its own GitLab deployment on: one made again would show the
// commit twice and leave the first one running for ever. The deployment
// is read by the id kept at the commit's first report, in one request.
func TestALateReportMovesTheCommitsOwnGitLabDeployment(t *testing.T) {
	const project, newer = "platform/team/config", 1001
	for _, optional := range []bool{false, true} {
		t.Run(fmt.Sprintf("optional=%v", optional), func(t *testing.T) {
			clk := testingclock.NewFakeClock(t0)
			f := forge.NewGitLab("glpat-good", project)
			t.Cleanup(f.Close)
			c, err := gitlabstatus.NewClient(f.URL(), "glpat-good")
			require.NoError(t, err)
			var r status.Reporter
			r, err = gitlabdeploy.New(gitlabdeploy.Options{Client: c, Project: project, Cluster: "prod"})
			require.NoError(t, err)
			if optional {
				r = deployment.NewOptional(r, gitlabdeploy.Denied)
			}
			l := newLedger("web")
			d := start(t, outbox.Options{Store: l, Namespaces: []string{"web"}, Reporters: []status.Reporter{r}, Clock: clk})
			deliver := func(u status.Update) {
				t.Helper()
				u.Cluster, u.Namespace = "prod", "web"
				// As the syncer does: the commit's history entry and the
				// reports it owes in one write.
				require.NoError(t, l.Update(context.Background(), "web", func(st *version.VersionStatus) error {
					st.Record(version.Commit{SHA: u.SHA, State: u.State})
					d.Record(st, u)
					return nil
				}))
				d.Kick()
				idle(t, clk, func() bool { return len(l.owed("web")) == 0 })
			}
			deliver(status.Update{SHA: shaA, State: status.Applying})
			for i := range newer {
				_, _, err := c.Deployments.CreateProjectDeployment(project, &gitlab.CreateProjectDeploymentOptions{
					Environment: gitlab.Ptr("prod/web"), Ref: gitlab.Ptr("main"), SHA: gitlab.Ptr(fmt.Sprintf("%040x", i+1)),
					Tag: gitlab.Ptr(false), Status: gitlab.Ptr(gitlab.DeploymentStatusSuccess)})
				require.NoError(t, err)
			}
			before := len(f.Calls())
			deliver(status.Update{SHA: shaA, State: status.Deployed, AppliedAt: t0, FinishedAt: t0.Add(time.Minute)})

			a := f.Deployments(project, shaA, "prod/web")
			require.Len(t, a, 1, "the late report moves the commit's own deployment on")
			require.Equal(t, []string{"created", "running", "success"}, a[0].States())
			var reads []string
			for _, call := range f.Calls()[before:] {
				if call.Method == "GET" && strings.Contains(call.Path, "/deployments") {
					reads = append(reads, call.Path)
				}
			}
			require.Equal(t, []string{fmt.Sprintf("/api/v4/projects/%s/deployments/%d", project, a[0].ID)}, reads,
				"one request finds it")
		})
	}
}
