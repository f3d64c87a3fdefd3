package forge

import "fmt"

// Project is a GitLab project as webhooks name it.
type Project struct {
	ID int64
	// Path is path_with_namespace (group/sub/project).
	Path string
	// HTTPURL is git_http_url, where the project is cloned from.
	HTTPURL string
}

// MergeRequestHook is a merge request event, as GitLab posts it with the
// header X-Gitlab-Event: Merge Request Hook.
type MergeRequestHook struct {
	Action string // open, reopen, update, close, merge, ...
	IID    int
	// Target is the project the merge request is into; Source the project
	// its branch is in: another one for a merge request from a fork.
	Target, Source             Project
	TargetBranch, SourceBranch string
	Head                       string // last_commit.id
}

// Payload is the hook's JSON body, in the documented shape: the top-level
// project is the target project; object_attributes names both projects
// by id (source_project_id, target_project_id) and in full (source,
// target).
func (h MergeRequestHook) Payload() map[string]any {
	source := h.Source
	if source.ID == 0 {
		source = h.Target
	}
	url := fmt.Sprintf("https://gitlab.example.com/%s/-/merge_requests/%d", h.Target.Path, h.IID)
	return map[string]any{
		"object_kind": "merge_request",
		"event_type":  "merge_request",
		"user":        map[string]any{"id": 1, "name": "Administrator", "username": "root"},
		"project":     projectJSON(h.Target),
		"repository":  map[string]any{"name": h.Target.Path, "url": h.Target.HTTPURL, "homepage": webURL(h.Target)},
		"object_attributes": map[string]any{
			"id": 90000 + h.IID, "iid": h.IID, "action": h.Action, "state": "opened", "url": url,
			"source_branch": h.SourceBranch, "target_branch": h.TargetBranch,
			"source_project_id": source.ID, "target_project_id": h.Target.ID,
			"source": projectJSON(source), "target": projectJSON(h.Target),
			"last_commit": map[string]any{"id": h.Head, "url": webURL(source) + "/-/commit/" + h.Head},
		},
	}
}

func projectJSON(p Project) map[string]any {
	return map[string]any{"id": p.ID, "path_with_namespace": p.Path, "git_http_url": p.HTTPURL, "web_url": webURL(p)}
}

func webURL(p Project) string { return "https://gitlab.example.com/" + p.Path }
