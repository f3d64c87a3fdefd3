package waitclient

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestOneFailedClusterDecidesForAll(t *testing.T) {
	failed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusConflict)
		_, _ = w.Write([]byte(`{"sha":"abc1234","state":"failed","reason":"CrashLoopBackOff"}`))
	}))
	defer failed.Close()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // a long poll still in progress
	}))
	defer slow.Close()

	start := time.Now()
	res := Wait(context.Background(), "abc1234", Options{URLs: []string{slow.URL, failed.URL}, Timeout: time.Minute})
	require.Equal(t, Failed, res.Outcome, "%v", res.Err)
	require.Equal(t, "CrashLoopBackOff", res.Answers[failed.URL].Reason)
	require.Less(t, time.Since(start), 10*time.Second, "the other cluster's wait is not waited out")
}

// The same answer about several namespaces is one progress line, however
// the JSON object's keys are ordered: a client shows each change once.
func TestProgressOncePerChangeWithSeveralNamespaces(t *testing.T) {
	bodies := []string{
		`{"sha":"abc1234","state":"rolling-out","namespaces":{"web":{"state":"rolling-out","ready":1,"total":2},"api":{"state":"deployed"},"db":{"state":"rolling-out","total":3}}}`,
		`{"sha":"abc1234","state":"rolling-out","namespaces":{"db":{"state":"rolling-out","total":3},"api":{"state":"deployed"},"web":{"state":"rolling-out","ready":1,"total":2}}}`,
		`{"sha":"abc1234","state":"rolling-out","namespaces":{"api":{"state":"deployed"},"web":{"state":"rolling-out","ready":1,"total":2},"db":{"state":"rolling-out","total":3}}}`,
		`{"sha":"abc1234","state":"rolling-out","namespaces":{"api":{"state":"deployed"},"web":{"state":"deployed"},"db":{"state":"rolling-out","total":3}}}`,
	}
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if n >= len(bodies) {
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte(`{"sha":"abc1234","state":"deployed"}`))
			return
		}
		w.WriteHeader(http.StatusRequestTimeout)
		_, _ = w.Write([]byte(bodies[n]))
		n++
	}))
	defer srv.Close()
	var lines []string
	res := Wait(context.Background(), "abc1234", Options{URLs: []string{srv.URL}, Timeout: time.Minute,
		Progress: func(_ string, a Answer) { lines = append(lines, a.Summary()) }})
	require.Equal(t, Deployed, res.Outcome, "%v", res.Err)
	require.Equal(t, []string{
		"api=deployed:0/0;db=rolling-out:0/3;web=rolling-out:1/2;",
		"api=deployed:0/0;db=rolling-out:0/3;web=deployed:0/0;",
		"",
	}, lines)
}
