package waitclient

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A URL no retry can make work is refused before any request, Unknown (the
// CLI's usage exit), at once rather than at the timeout.
func TestWaitRefusesAURLThatCannotWork(t *testing.T) {
	for _, tc := range []struct{ url, says string }{
		{"notaurl", "no http:// or https://"},
		{"ftp://example", "no http:// or https://"},
		{"localhost:8080", "no http:// or https://"},
		{"http://", "no host"},
		{"https:///wait", "no host"},
		{"http://127.0.0.1:99999", "invalid port"},
		{"https://syncgate.example.com/?env=prod", "query"},
	} {
		t.Run(tc.url, func(t *testing.T) {
			start := time.Now()
			res := Wait(context.Background(), "abcdef1", Options{URLs: []string{"http://127.0.0.1:1", tc.url}, Timeout: 30 * time.Second})
			require.Equal(t, Unknown, res.Outcome, "%v", res.Err)
			require.ErrorContains(t, res.Err, tc.says)
			require.ErrorContains(t, res.Err, tc.url)
			require.Less(t, time.Since(start), 10*time.Second, "at once, not at the timeout")
		})
	}
}

// A gateway that cannot be reached is asked again until the timeout, and
// why is told as it happens, once per change (not once per try), and with
// the timeout.
func TestWaitTellsWhyAnUnreachableGatewayIsAskedAgain(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	refused := "http://" + l.Addr().String()
	require.NoError(t, l.Close())
	var told []string
	res := Wait(context.Background(), "abcdef1", Options{URLs: []string{refused}, Timeout: 2 * time.Second,
		Trouble: func(u string, err error) { told = append(told, u+": "+err.Error()) }})
	require.Equal(t, TimedOut, res.Outcome, "%v", res.Err)
	require.ErrorContains(t, res.Err, "last error: dial tcp "+l.Addr().String())
	require.ErrorContains(t, res.Err, "connection refused")
	require.NotContains(t, res.Err.Error(), "?timeout=", "the error of the connection, not of each request")
	require.Len(t, told, 1, "the same error told once: %q", told)
	require.Contains(t, told[0], refused+": dial tcp")
}

// A server that answers, but not as syncgate, is not a syncgate agent once
// it answered so a few times alike; a proxy's 5xx page is asked again.
func TestWaitOnAServerThatIsNotSyncgate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		code    int
		ctype   string
		body    string
		out     Outcome
		says    string
		atLeast int32
	}{
		{"html 404", http.StatusNotFound, "text/html; charset=utf-8", "<html><body>Not Found</body></html>", Unknown,
			"is not a syncgate agent: GET /wait/abcdef1 answered 404 text/html", notAgentAnswers},
		{"a login page", http.StatusOK, "text/html", "<html>sign in</html>", Unknown,
			"is not a syncgate agent: GET /wait/abcdef1 answered 200 text/html", notAgentAnswers},
		{"json of another API", http.StatusNotFound, "application/json", `{"message":"Not Found"}`, Unknown,
			"answered 404 application/json", notAgentAnswers},
		{"a proxy's 502 page", http.StatusBadGateway, "text/html", "<html>502 Bad Gateway</html>", TimedOut,
			"timed out; last error: GET /wait/abcdef1 answered 502 text/html", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var asked atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				asked.Add(1)
				w.Header().Set("Content-Type", tc.ctype)
				w.WriteHeader(tc.code)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			timeout := 8 * time.Second // past notAgentAnswers tries
			if tc.out == TimedOut {
				timeout = 3 * time.Second
			}
			var told atomic.Int32
			res := Wait(context.Background(), "abcdef1", Options{URLs: []string{srv.URL}, Timeout: timeout,
				Trouble: func(string, error) { told.Add(1) }})
			require.Equal(t, tc.out, res.Outcome, "%v", res.Err)
			require.ErrorContains(t, res.Err, tc.says)
			require.False(t, strings.Contains(res.Err.Error(), "\n"), "one line")
			require.GreaterOrEqual(t, asked.Load(), tc.atLeast)
			require.Equal(t, int32(1), told.Load(), "told once as it happened")
		})
	}
}

// An ingress's own 404 while no replica of the agent is ready passes: the
// URL is judged not a syncgate agent only when the answers alike lasted
// the span, and never once it gave a syncgate answer.
func TestNotAgentIsJudgedOverTime(t *testing.T) {
	page := &notAgentError{path: "/wait/abcdef1", code: http.StatusNotFound, mediaType: "text/plain"}
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

	a := alike{span: time.Minute}
	for i := range 10 {
		require.False(t, a.add(page, t0.Add(time.Duration(i)*time.Second)), "answer %d, %ds in", i+1, i)
	}
	require.True(t, a.add(page, t0.Add(time.Minute)), "a minute of them")

	a = alike{span: time.Minute}
	require.False(t, a.add(nil, t0), "a syncgate answer")
	for i := range 10 {
		require.False(t, a.add(page, t0.Add(time.Duration(i)*time.Minute)), "answer %d after a syncgate one", i+1)
	}
}
