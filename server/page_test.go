package server

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
)

// commitLog is a CommitLog over a map.
type commitLog map[string]CommitInfo

func (l commitLog) CommitInfo(sha string) (CommitInfo, bool) { c, ok := l[sha]; return c, ok }

// pageFixture is a namespace's record: a (oldest) and c deployed, b carried
// by c, d failed with a crashloop, e rolling out; with each commit's git
// time and author.
func pageFixture(now time.Time) (version.VersionStatus, commitLog) {
	at := func(ago time.Duration) *metav1.Time { t := metav1.NewTime(now.Add(-ago)); return &t }
	log := commitLog{
		sha('a'): {Subject: "Deploy web 1.0.0 to prod/web", Author: "Ada", Time: now.Add(-50 * time.Minute)},
		sha('b'): {Subject: "Raise web replicas to 4", Author: "Bo", Time: now.Add(-40 * time.Minute)},
		sha('c'): {Subject: "Deploy web 1.1.0 to prod/web", Author: "Ada", Time: now.Add(-39 * time.Minute)},
		sha('d'): {Subject: "Deploy web 1.2.0-crashloop to prod/web", Author: "Cy <script>", Time: now.Add(-20 * time.Minute)},
		sha('e'): {Subject: "Deploy web 1.2.1 to prod/web", Author: "Ada", Time: now.Add(-2 * time.Minute)},
	}
	st := version.VersionStatus{
		Applied: sha('e'), Deployed: sha('c'),
		Conditions: []metav1.Condition{{Type: version.ConditionReady, Status: metav1.ConditionFalse, Message: "rolling out e"}},
		History: []version.Commit{
			{SHA: sha('e'), State: status.RollingOut, FetchedAt: at(90 * time.Second), AppliedAt: at(80 * time.Second), Ready: 2, Total: 4},
			{SHA: sha('d'), State: status.Failed, Reason: "web: Deployment web: pod web-1 container web: CrashLoopBackOff (back-off 10s)",
				AppliedAt: at(19 * time.Minute), FinishedAt: at(18 * time.Minute)},
			{SHA: sha('c'), State: status.Deployed, AppliedAt: at(38 * time.Minute), FinishedAt: at(37 * time.Minute)},
			{SHA: sha('b'), State: status.Superseded, Outcome: status.Deployed, CarriedBy: sha('c'), FinishedAt: at(37 * time.Minute)},
			{SHA: sha('a'), State: status.Deployed, AppliedAt: at(49 * time.Minute), FinishedAt: at(48 * time.Minute)},
		},
	}
	return st, log
}

func newPageServer(t *testing.T) (*Server, *memVersions) {
	t.Helper()
	now := time.Now()
	st, log := pageFixture(now)
	s, vs, _ := newTestServer(t, func(o *Options) {
		o.Commits = log
		o.CommitURL = func(sha string) string { return "https://git.example.com/team/config/commit/" + sha }
	})
	vs.set("web", st)
	return s, vs
}

func TestStatusPage(t *testing.T) {
	s, _ := newPageServer(t)
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Accept", "text/html")
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code)
	body := rec.Body.String()
	for _, want := range []string{
		// the timeline: message, author, commit time from git, forge link, state, duration, reason
		"Deploy web 1.1.0 to prod/web", "Ada", "39 minutes ago",
		`href="https://git.example.com/team/config/commit/` + sha('c') + `"`,
		`<a class="badge deployed" href="/status/` + sha('c') + `">deployed</a>`,
		`<a class="badge failed" href="/status/` + sha('d') + `">failed</a>`,
		"superseded → deployed", "deployed with ccccccc, which superseded it", "1m0s",
		"CrashLoopBackOff (back-off 10s)",
		"Cy &lt;script&gt;",
		// the commit in flight
		`<span class="badge progress">rolling-out</span> <code>eeeeeee</code> Deploy web 1.2.1 to prod/web`,
		"2 of 4 objects ready", `style="width: 50%"`,
		// the measures: lead times 2m (c), 3m (b), 2m (a): median 2m; one
		// failure of four attempts... of three: a, c deployed, d failed;
		// d's failure not yet restored.
		`<div class="figure">2m0s</div>`, `<div class="figure">33%</div>`, "1 failed of 3 attempts", "failing now",
		`<svg class="chart"`,
		// the other namespace has no Version yet
		`id="ns-api"`, "no Version yet", "No commit recorded yet.",
		// live updates
		`new EventSource("/events")`,
	} {
		require.Contains(t, body, want)
	}
	require.NotContains(t, body, "<script>alert")
	// No external assets: nothing is loaded from elsewhere.
	require.NotRegexp(t, `(?i)<(script|img|link)[^>]+(src|href)="(https?:)?//`, body)
}

// readEvent reads one server-sent event's data.
func readEvent(t *testing.T, r *bufio.Reader) sectionEvent {
	t.Helper()
	var ev sectionEvent
	for {
		line, err := r.ReadString('\n')
		require.NoError(t, err)
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			require.NoError(t, json.Unmarshal([]byte(data), &ev))
			return ev
		}
	}
}

func TestStatusPageLiveEvents(t *testing.T) {
	s, vs := newPageServer(t)
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/events", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	r := bufio.NewReader(resp.Body)

	first := map[string]string{}
	for range 2 { // every namespace section, in name order
		ev := readEvent(t, r)
		first[ev.NS] = ev.HTML
	}
	require.Contains(t, first["web"], "2 of 4 objects ready")
	require.Contains(t, first["api"], "no Version yet")

	// The rollout moves on: only web's section is sent again, with it.
	st, _ := pageFixture(time.Now())
	st.History[0].Ready = 3
	vs.set("web", st)
	ev := readEvent(t, r)
	require.Equal(t, "web", ev.NS)
	require.Contains(t, ev.HTML, "3 of 4 objects ready")
	require.True(t, strings.HasPrefix(ev.HTML, `<section class="ns" id="ns-web">`), ev.HTML)

	// It is deployed: no commit in flight any more.
	st.History[0].State, st.History[0].FinishedAt = status.Deployed, &metav1.Time{Time: time.Now()}
	vs.set("web", st)
	ev = readEvent(t, r)
	require.Equal(t, "web", ev.NS)
	require.NotContains(t, ev.HTML, "objects ready")
	require.Contains(t, ev.HTML, `<a class="badge deployed" href="/status/`+sha('e')+`">deployed</a>`)
}

func TestDeliveryMetrics(t *testing.T) {
	s, _ := newPageServer(t)
	got := map[string]float64{}
	mfs, err := s.opts.Metrics.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if strings.HasPrefix(mf.GetName(), "syncgate_") && len(m.GetLabel()) == 1 && m.GetLabel()[0].GetName() == "namespace" {
				got[mf.GetName()+"/"+m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
			}
		}
	}
	require.InDelta(t, 120, got["syncgate_lead_time_seconds/web"], 0.5) // the page's 2m0s
	require.InDelta(t, 1.0/3, got["syncgate_change_failure_ratio/web"], 1e-9)
	require.InDelta(t, 2.0/7, got["syncgate_deployments_per_day/web"], 1e-9)
	_, restored := got["syncgate_time_to_restore_seconds/web"]
	require.False(t, restored, "d's failure is not restored yet")
	_, api := got["syncgate_deployments_per_day/api"]
	require.False(t, api, "a namespace without a Version has no measures")
}
