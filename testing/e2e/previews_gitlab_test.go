package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/testing/forge"
)

// mergeRequest sends GitLab's Merge Request Hook for head, with the
// webhook's secret token.
func (e *env) mergeRequest(action string, iid int, head string) (int, map[string]any) {
	e.t.Helper()
	project := e.repo.Name
	payload := map[string]any{
		"object_kind": "merge_request", "event_type": "merge_request",
		"project": map[string]any{"id": 7, "path_with_namespace": project, "git_http_url": e.git.HTTPURL(project),
			"web_url": "https://gitlab.example.com/" + project},
		"object_attributes": map[string]any{
			"iid": iid, "action": action, "state": "opened",
			"url":           fmt.Sprintf("https://gitlab.example.com/%s/-/merge_requests/%d", project, iid),
			"source_branch": "topic", "target_branch": e.repo.Branch(), "source_project_id": 7, "target_project_id": 7,
			"last_commit": map[string]any{"id": head},
		},
	}
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
	code, body := e.mergeRequest("open", 1, first)
	require.Equal(t, http.StatusAccepted, code, body)
	note := previewShown(t, gl, "platform/config", first, ctx, "success", "valid: 1 changed, 1 pruned")
	require.Contains(t, note.Body, "data.value")
	require.Contains(t, note.Body, "prune <code>ConfigMap "+ns+"/old</code>")

	// A second push to the merge request: the same note, edited.
	second, err := repo.CommitRef("refs/merge-requests/1/head", "value 3", map[string]string{
		ns + "/settings.yaml": configMapYAML("settings", "3"),
	})
	require.NoError(t, err)
	code, body = e.mergeRequest("update", 1, second)
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

	require.Equal(t, before, writes.writes.Load(), "writes: %v", writes.written())
}
