package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/testing/forge"
)

// mergeRequest sends GitLab's Merge Request Hook for head, with the
// webhook's secret token; from names the source project of a merge
// request from a fork (nil: the followed project itself).
func (e *env) mergeRequest(action string, iid int, head string, from *forge.Project) (int, map[string]any) {
	e.t.Helper()
	target := forge.Project{ID: 7, Path: e.repo.Name, HTTPURL: e.git.HTTPURL(e.repo.Name)}
	hook := forge.MergeRequestHook{Action: action, IID: iid, Target: target, TargetBranch: e.repo.Branch(), SourceBranch: "topic", Head: head}
	if from != nil {
		hook.Source = *from
	}
	payload := hook.Payload()
	return e.hook("gitlab", "Merge Request Hook", payload)
}

// Merge requests are previewed as pull requests are: the head fetched
// through refs/merge-requests/N/head, a commit status on it, and one note
// on the merge request, edited in place by the next push; nothing written
// to the cluster.
func TestMergeRequestPreviews(t *testing.T) {
	gl := forge.NewGitLab("glpat-e2e", "platform/config")
	t.Cleanup(gl.Close)
	gl.OpenPull("platform/config", 1)
	gl.OpenPull("platform/config", 2)
	e, writes := previewEnv(t, "platform/config", func(ns string) map[string]string {
		return map[string]string{ns + "/settings.yaml": configMapYAML("settings", "1"), ns + "/old.yaml": configMapYAML("old", "1")}
	}, "GITLAB_URL="+gl.URL(), "GITLAB_TOKEN=glpat-e2e")
	repo, ns := e.repo, e.ns
	before := writes.writes.Load()
	ctx := "syncgate/e2e/" + ns + "/preview"
	final := func(sha string) func() bool {
		return func() bool {
			s, ok := gl.Latest("platform/config", sha, ctx)
			return ok && s.State != "pending" && s.State != "running"
		}
	}

	first, err := repo.CommitRef("refs/merge-requests/1/head", "value 2", map[string]string{
		ns + "/settings.yaml": configMapYAML("settings", "2"),
		ns + "/old.yaml":      "",
	})
	require.NoError(t, err)
	code, body := e.mergeRequest("open", 1, first, nil)
	require.Equal(t, http.StatusAccepted, code, body)
	note := previewShown(t, gl, "platform/config", first, ctx, "success", "valid: 1 changed, 1 pruned")
	require.Contains(t, note.Body, "data.value")
	require.Contains(t, note.Body, "prune <code>ConfigMap "+ns+"/old</code>")

	// A second push to the merge request: the same note, edited.
	second, err := repo.CommitRef("refs/merge-requests/1/head", "value 3", map[string]string{
		ns + "/settings.yaml": configMapYAML("settings", "3"),
	})
	require.NoError(t, err)
	code, body = e.mergeRequest("update", 1, second, nil)
	require.Equal(t, http.StatusAccepted, code, body)
	require.Eventually(t, final(second), 60*time.Second, 50*time.Millisecond)
	st, _ := gl.Latest("platform/config", second, ctx)
	require.Equal(t, "success", st.State, st.Description)
	var notes []forge.Comment
	require.Eventually(t, func() bool {
		notes = gl.Comments("platform/config", 1)
		return len(notes) == 1 && strings.Contains(notes[0].Body, second[:7])
	}, 30*time.Second, 50*time.Millisecond)
	require.Equal(t, 1, notes[0].Edits, "the same note, edited")
	require.Contains(t, notes[0].Body, `"3"`)

	// A merge request from a fork (its source project is not the target):
	// refused by default, the status saying why, no note.
	fork := &forge.Project{ID: 8, Path: "someone/config", HTTPURL: "https://gitlab.example.com/someone/config.git"}
	forked, err := repo.CommitRef("refs/merge-requests/2/head", "from a fork", map[string]string{ns + "/x.yaml": configMapYAML("x", "1")})
	require.NoError(t, err)
	code, body = e.mergeRequest("open", 2, forked, fork)
	require.Equal(t, http.StatusAccepted, code, body)
	require.Equal(t, "refused", body["result"], body)
	require.Eventually(t, final(forked), 30*time.Second, 50*time.Millisecond)
	st, _ = gl.Latest("platform/config", forked, ctx)
	require.Equal(t, "failed", st.State)
	require.Contains(t, st.Description, "fork")
	require.Contains(t, st.Description, "PREVIEW_FORKS=true")
	require.Empty(t, gl.Comments("platform/config", 2))

	// With PREVIEW_FORKS=true the same merge request is previewed.
	e.stop()
	e.extra = append(e.extra, "PREVIEW_FORKS=true")
	e.start()
	code, body = e.mergeRequest("update", 2, forked, fork)
	require.Equal(t, http.StatusAccepted, code, body)
	require.Equal(t, "previewing", body["result"], body)
	require.Eventually(t, func() bool {
		s, ok := gl.Latest("platform/config", forked, ctx)
		return ok && s.State == "success"
	}, 60*time.Second, 50*time.Millisecond)
	st, _ = gl.Latest("platform/config", forked, ctx)
	require.Equal(t, "valid: 1 created", st.Description)
	require.Eventually(t, func() bool { return len(gl.Comments("platform/config", 2)) == 1 }, 30*time.Second, 50*time.Millisecond)

	require.Equal(t, before, writes.writes.Load(), "writes: %v", writes.written())
}
