package proc

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

func TestAwaitReady(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer x" || calls.Add(1) < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	p, err := Start("sleep", exec.Command("sleep", "60"), filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop(time.Second)
	ctx := context.Background()
	header := http.Header{"Authorization": {"Bearer x"}}
	if err := p.AwaitReady(ctx, Ready{URL: srv.URL, Header: header, Every: time.Millisecond, Timeout: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if err := p.AwaitReady(ctx, Ready{URL: srv.URL, Every: time.Millisecond, Timeout: 20 * time.Millisecond}); err == nil {
		t.Fatal("a 503 endpoint: ready")
	}

	dead, err := Start("false", exec.Command("false"), filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	<-dead.Done()
	if err := dead.AwaitReady(ctx, Ready{URL: srv.URL + "/nowhere", Header: header, Every: time.Millisecond, Timeout: time.Minute}); err == nil {
		t.Fatal("an exited process: ready")
	}
}
