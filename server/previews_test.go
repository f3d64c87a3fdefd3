package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/sync/preview"
)

// memPreviews records what is submitted and answers Get from it.
type memPreviews struct {
	mu   sync.Mutex
	reqs []preview.Request
	busy bool
}

func (m *memPreviews) Submit(_ context.Context, r preview.Request) (*preview.Result, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.busy {
		return nil, preview.ErrBusy
	}
	if r.SHA == "" {
		r.SHA = sha('f')
	}
	m.reqs = append(m.reqs, r)
	state := preview.Queued
	if r.Refused != "" {
		state = preview.Refused
	}
	return &preview.Result{SHA: r.SHA, State: state, Reason: r.Refused}, nil
}

func (m *memPreviews) Get(s string) *preview.Result {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.reqs {
		if r.SHA == s {
			return &preview.Result{SHA: r.SHA, State: preview.Valid, Cluster: "prod"}
		}
	}
	return nil
}

func (m *memPreviews) submitted() []preview.Request {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]preview.Request(nil), m.reqs...)
}

func pullPayload(action string, number int, head, base, from string) []byte {
	b, _ := json.Marshal(map[string]any{
		"action": action, "number": number,
		"repository": map[string]any{"full_name": "acme/config"},
		"pull_request": map[string]any{"html_url": "https://github.example.com/acme/config/pull/1",
			"head": map[string]any{"sha": head, "repo": map[string]any{"full_name": from}},
			"base": map[string]any{"ref": base, "repo": map[string]any{"full_name": "acme/config"}}},
	})
	return b
}

func TestPullRequestWebhooks(t *testing.T) {
	pv := &memPreviews{}
	s, _, _ := newTestServer(t, func(o *Options) {
		o.WebhookSecret = "hush"
		o.RepoURL = "https://github.example.com/acme/config.git"
		o.Previews = pv
	})
	post := func(path string, body []byte, hdr ...string) (int, map[string]any) {
		return postHook(s, path, body, hdr...)
	}
	gh := func(body []byte) (int, map[string]any) {
		return post("/hooks/github", body, "X-GitHub-Event", "pull_request", "X-Hub-Signature-256", sign("hush", body))
	}

	code, out := gh(pullPayload("opened", 7, sha('e'), "main", "acme/config"))
	require.Equal(t, http.StatusAccepted, code, out)
	require.Equal(t, "previewing", out["result"])
	require.Equal(t, []preview.Request{{Ref: "refs/pull/7/head", SHA: sha('e'), Provider: "github", Number: 7,
		URL: "https://github.example.com/acme/config/pull/1"}}, pv.submitted())

	code, out = gh(pullPayload("synchronize", 8, sha('d'), "main", "someone/config"))
	require.Equal(t, http.StatusAccepted, code)
	require.Equal(t, "refused", out["result"])
	require.Contains(t, pv.submitted()[1].Refused, "fork")

	for _, body := range [][]byte{
		pullPayload("closed", 7, sha('e'), "main", "acme/config"),
		pullPayload("opened", 7, sha('e'), "release", "acme/config"),
	} {
		code, out = gh(body)
		require.Equal(t, http.StatusAccepted, code)
		require.Equal(t, "ignored", out["result"])
	}
	require.Len(t, pv.submitted(), 2)

	bad := pullPayload("opened", 7, "nope", "main", "acme/config")
	code, _ = gh(bad)
	require.Equal(t, http.StatusBadRequest, code)
	body := pullPayload("opened", 7, sha('e'), "main", "acme/config")
	code, _ = post("/hooks/github", body, "X-GitHub-Event", "pull_request", "X-Hub-Signature-256", sign("guess", body))
	require.Equal(t, http.StatusUnauthorized, code)

	mr, _ := json.Marshal(map[string]any{"object_kind": "merge_request",
		"project": map[string]any{"path_with_namespace": "acme/config"},
		"object_attributes": map[string]any{"iid": 3, "action": "update", "target_branch": "main",
			"source_project_id": 1, "target_project_id": 1, "last_commit": map[string]any{"id": sha('c')}}})
	code, out = post("/hooks/gitlab", mr, "X-Gitlab-Event", "Merge Request Hook", "X-Gitlab-Token", "hush")
	require.Equal(t, http.StatusAccepted, code, out)
	last := pv.submitted()[2]
	require.Equal(t, "refs/merge-requests/3/head", last.Ref)
	require.Equal(t, "gitlab", last.Provider)

	pv.mu.Lock()
	pv.busy = true
	pv.mu.Unlock()
	code, _ = gh(pullPayload("opened", 9, sha('b'), "main", "acme/config"))
	require.Equal(t, http.StatusServiceUnavailable, code)
}

func TestPreviewAPI(t *testing.T) {
	pv := &memPreviews{}
	s, _, _ := newTestServer(t, func(o *Options) { o.Previews = pv })
	do := func(method, path, body string, hdr ...string) (int, string) {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	for _, bad := range []string{`{}`, `{"sha":"abc"}`, `{"ref":"pull/1"}`, `{"ref":"refs/pull/1/head","x":1}`, `not json`} {
		code, body := do(http.MethodPost, "/api/v1/previews", bad)
		require.Equal(t, http.StatusBadRequest, code, bad)
		require.Contains(t, body, `"error"`)
	}
	code, body := do(http.MethodPost, "/api/v1/previews", `{"ref":"refs/pull/12/head"}`)
	require.Equal(t, http.StatusAccepted, code, body)
	require.Contains(t, body, `"state":"queued"`)
	require.NotContains(t, body, `"finished"`, "a queued preview has not finished, not even in year 1")
	require.Equal(t, preview.Request{Ref: "refs/pull/12/head", Provider: "github", Number: 12, SHA: sha('f')}, pv.submitted()[0])

	code, body = do(http.MethodGet, "/previews/"+sha('f'), "")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `"state":"valid"`)
	code, body = do(http.MethodGet, "/previews/"+sha('f'), "", "Accept", "text/html,application/xhtml+xml")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "<html")
	code, _ = do(http.MethodGet, "/previews/"+sha('9'), "")
	require.Equal(t, http.StatusNotFound, code)
}
