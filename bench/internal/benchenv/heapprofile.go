package benchenv

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"

	"github.com/syncgate/syncgate/testing/proc"
)

// ProfileEnv are the settings that make the agent serve its profiles on a
// free loopback DEBUG_ADDR, whose URL it returns, sampling one allocation
// per 16 KiB rather than Go's 512 KiB so that small allocations made once
// per commit or per namespace show.
func ProfileEnv() (url string, env []string, err error) {
	addr, err := proc.FreeAddr()
	if err != nil {
		return "", nil, err
	}
	return "http://" + addr, []string{"DEBUG_ADDR=" + addr, "GODEBUG=memprofilerate=16384"}, nil
}

// WriteHeapProfile writes the heap profile of the agent serving its
// profiles at debugURL (in use after a full collection) as
// dir/name.pb.gz: read it with `go tool pprof -top
// -sample_index=inuse_space`, diff two with -base.
func WriteHeapProfile(ctx context.Context, debugURL, dir, name string) error {
	return writeProfile(ctx, debugURL+"/debug/pprof/heap?gc=1", filepath.Join(dir, name+".pb.gz"))
}

// WriteGoroutines writes the agent's goroutines, counted by stack, as
// dir/name.txt.
func WriteGoroutines(ctx context.Context, debugURL, dir, name string) error {
	return writeProfile(ctx, debugURL+"/debug/pprof/goroutine?debug=1", filepath.Join(dir, name+".txt"))
}

func writeProfile(ctx context.Context, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("profile %s: %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	fmt.Fprintf(os.Stderr, "profile %s\n", path)
	return f.Close()
}

// WriteCPUProfile writes a CPU profile of secs seconds of the agent
// serving its profiles at debugURL, as dir/name.pb.gz.
func WriteCPUProfile(ctx context.Context, debugURL, secs, dir, name string) error {
	return writeProfile(ctx, debugURL+"/debug/pprof/profile?seconds="+secs, filepath.Join(dir, name+".pb.gz"))
}
