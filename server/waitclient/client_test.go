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
