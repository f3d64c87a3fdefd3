package server

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
)

// FuzzWebhooks feeds signed bodies of any shape to both push webhooks: the
// gateway never fails (5xx) or panics on what a forge, or someone holding
// the secret, sends, and a body's parse costs memory in proportion to
// nothing but the bounded fields it keeps.
func FuzzWebhooks(f *testing.F) {
	for _, seed := range []string{
		`{"ref":"refs/heads/main","after":"` + sha('e') + `","repository":{"clone_url":"https://github.com/example/config.git","full_name":"example/config"}}`,
		`{"ref":"refs/heads/main","checkout_sha":"` + sha('e') + `","project":{"git_http_url":"https://gitlab.com/example/config.git","path_with_namespace":"example/config"}}`,
		`{"ref":"refs/heads/other","after":"0000000000000000000000000000000000000000"}`,
		`{"repository":{"full_name":{"nested":[1,2,{"x":"y"}]}},"ref":["not","a","string"]}`,
		`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[`,
		`{"ref":"refs/heads/main","after":"` + sha('e') + `","after":"` + sha('f') + `"}`,
		"payload=%7B%22ref%22%3A%22refs%2Fheads%2Fmain%22%7D",
		"",
	} {
		f.Add([]byte(seed), false)
		f.Add([]byte(seed), true)
	}
	s, _, _ := newTestServer(f, func(o *Options) {
		o.WebhookSecret = "hush"
		o.RepoURL = "https://github.com/example/config.git"
	})
	h := s.Handler()
	f.Fuzz(func(t *testing.T, body []byte, gitlab bool) {
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		var req *http.Request
		if gitlab {
			req = httptest.NewRequest(http.MethodPost, "/hooks/gitlab", bytes.NewReader(body))
			req.Header.Set("X-Gitlab-Token", "hush")
			req.Header.Set("X-Gitlab-Event", "Push Hook")
		} else {
			req = httptest.NewRequest(http.MethodPost, "/hooks/github", bytes.NewReader(body))
			req.Header.Set("X-Hub-Signature-256", sign("hush", body))
			req.Header.Set("X-GitHub-Event", "push")
			if bytes.HasPrefix(body, []byte("payload=")) {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			} else {
				req.Header.Set("Content-Type", "application/json")
			}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%d for a body of %d bytes: %s", rec.Code, len(body), rec.Body.String())
		}
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		if grew := int64(after.TotalAlloc-before.TotalAlloc) - 64*int64(len(body)); grew > 64<<20 {
			t.Fatalf("a body of %d bytes allocated %d MiB", len(body), (after.TotalAlloc-before.TotalAlloc)>>20)
		}
	})
}
