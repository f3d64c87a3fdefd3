package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/syncgate/syncgate/status/version"
)

// An image bump that names the application commit it deploys (the
// Syncgate-Origin trailer bump-image.sh writes) gets the commit status and
// the deployment on that commit too; a repository syncgate may not write
// to is shown once in the Reporting condition and not asked again.
func TestApplicationCommitSeesItsRollout(t *testing.T) {
	gh, e := githubEnv(t, []string{"acme/config", "acme/app"})
	ns := e.ns
	base := e.commit("base", map[string]string{
		ns + "/deploy.yaml":             deployment("web", "registry.example.com/web:1", ""),
		"e2e/" + ns + "/images_path":    "registry.example.com/team\n",
		"e2e/" + ns + "/web.deployment": "1.0.0\n",
	})
	e.start()
	code, _ := e.waitFinal(base)
	require.Equal(t, http.StatusOK, code)

	const appSHA = "5e1f0c3a9b7d2e4f6a8c0b1d3e5f7a9c2b4d6e8f"
	bump := bumpImage(t, e, "2.0.0", "ORIGIN_REPO=acme/app", "ORIGIN_SHA="+appSHA)
	code, _ = e.waitFinal(bump)
	require.Equal(t, http.StatusOK, code)
	context := "syncgate/e2e/" + ns
	require.Eventually(t, func() bool {
		st, ok := gh.Latest("acme/app", appSHA, context)
		return ok && st.State == "success"
	}, 30*time.Second, 20*time.Millisecond, "the application commit's status")
	st, _ := gh.Latest("acme/app", appSHA, context)
	require.Equal(t, "https://syncgate.example.com/status/"+bump, st.TargetURL, "links to the config commit's page")
	require.Regexp(t, `^deployed( in \d+.*)?$`, st.Description)
	f := githubUnderTest(t)
	f.fake, f.repo = gh, "acme/app"
	require.Equal(t, []string{"queued", "in_progress", "success"}, deploymentStates(t, f, appSHA, "e2e/"+ns, "success"))
	// Each sink delivers on its own, so the config commit's status may come
	// after the application commit's.
	require.Eventually(t, func() bool {
		st, ok := gh.Latest("acme/config", bump, context)
		return ok && st.State == "success"
	}, 30*time.Second, 20*time.Millisecond, "the config commit keeps its own")

	const privateSHA = "7a9c2b4d6e8f5e1f0c3a9b7d2e4f6a8c0b1d3e5f"
	denied := bumpImage(t, e, "2.0.1", "ORIGIN_REPO=acme/private", "ORIGIN_SHA="+privateSHA)
	code, _ = e.waitFinal(denied)
	require.Equal(t, http.StatusOK, code, "a refused report changes no verdict")
	var reporting *metav1.Condition
	require.Eventually(t, func() bool {
		reporting = e.version().Status.Condition(version.ConditionReporting)
		return reporting != nil && reporting.Status == metav1.ConditionFalse
	}, 30*time.Second, 20*time.Millisecond)
	require.Equal(t, "OriginRefused", reporting.Reason)
	require.Contains(t, reporting.Message, "acme/private")
	require.Eventually(t, func() bool {
		st, ok := gh.Latest("acme/config", denied, context)
		return ok && st.State == "success"
	}, 30*time.Second, 20*time.Millisecond, "the other sinks carry on")
	asked := 0
	for _, c := range gh.Calls() {
		if strings.Contains(c.Path, "/acme/private/") {
			asked++
		}
	}
	require.Equal(t, 1, asked, "refused once, not asked again for the later transitions")
}
