package gitsource_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/sync/gitsource"
	"github.com/syncgate/syncgate/testing/gitserver"
)

// A fetch that keeps receiving is not cut at Timeout or Stall, however long
// it takes (the first clone of a big repository); one that receives nothing
// for Stall ends, as unreachable.
func TestFetchEndsOnStallNotOnDuration(t *testing.T) {
	s := gitserver.StartT(t, gitserver.Options{})
	repo := s.CreateRepoT(t, "big")
	noise := make([]byte, 384<<10) // incompressible: the pack is as large
	_, err := rand.Read(noise)
	require.NoError(t, err)
	require.NoError(t, repo.Write(map[string]string{"team/noise.txt": base64.StdEncoding.EncodeToString(noise)}))
	head, err := repo.Commit("big")
	require.NoError(t, err)

	const stall = time.Second
	// The pack trickles in at 4 KiB every 20 ms, 200 KiB/s: several times
	// Stall in all, with bytes arriving all along (a fetch sees them a
	// sideband packet, up to 64 KiB, at a time: one every 0.3 s).
	slow := throttled(t, s.HTTPURL("big"), func(r io.Reader, _ *http.Request) io.Reader {
		return &trickle{r: r, chunk: 4 << 10, every: 20 * time.Millisecond}
	})
	src := newSource(t, gitsource.Options{URL: slow, Timeout: stall, Stall: stall})
	start := time.Now()
	syncTo(t, src, head)
	t.Logf("the slow fetch took %s, Stall %s", time.Since(start).Round(time.Millisecond), stall)

	// The server answers the fetch with its first bytes, then nothing.
	stuck := throttled(t, s.HTTPURL("big"), func(r io.Reader, req *http.Request) io.Reader {
		if !strings.HasSuffix(req.URL.Path, "/git-upload-pack") {
			return r
		}
		return io.MultiReader(io.LimitReader(r, 512), &blocked{done: req.Context().Done()})
	})
	src = newSource(t, gitsource.Options{URL: stuck, Stall: stall})
	_, err = src.Sync(context.Background())
	require.ErrorIs(t, err, gitsource.ErrUnreachable)
	require.ErrorContains(t, err, "nothing received from the remote for 1s")
	require.Empty(t, src.Head())
}

// throttled serves upstream's repository through a proxy whose answers'
// bodies are read through wrap.
func throttled(t *testing.T, upstream string, wrap func(io.Reader, *http.Request) io.Reader) string {
	t.Helper()
	u, err := url.Parse(upstream)
	require.NoError(t, err)
	path := u.Path
	u.Path = ""
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.FlushInterval = -1
	proxy.ModifyResponse = func(resp *http.Response) error {
		resp.Body = struct {
			io.Reader
			io.Closer
		}{wrap(resp.Body, resp.Request), resp.Body}
		return nil
	}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	return srv.URL + path
}

// trickle passes at most chunk bytes per read, one read per tick.
type trickle struct {
	r     io.Reader
	chunk int
	every time.Duration
	tick  *time.Ticker
}

func (tr *trickle) Read(p []byte) (int, error) {
	if tr.tick == nil {
		tr.tick = time.NewTicker(tr.every)
	}
	<-tr.tick.C
	return tr.r.Read(p[:min(len(p), tr.chunk)])
}

// blocked sends nothing until the request ends.
type blocked struct{ done <-chan struct{} }

func (b *blocked) Read([]byte) (int, error) {
	<-b.done
	return 0, io.ErrUnexpectedEOF
}
