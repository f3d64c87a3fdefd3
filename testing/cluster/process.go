package cluster

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/syncgate/syncgate/testing/proc"
)

func startProcess(name, bin, logDir string, args ...string) (*proc.Proc, error) {
	return proc.Start(name, exec.Command(bin, args...), filepath.Join(logDir, name+".log"))
}

// failure describes a process that did not come up, with its log's end.
func failure(p *proc.Proc, what string) error {
	state := "still running"
	if p.Exited() {
		state = fmt.Sprintf("exited: %v", p.Err())
	}
	return fmt.Errorf("%s: %s (%s); end of its log:\n%s", p.Name, what, state, p.LogTail(3000))
}

func hostPort(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// waitHTTP polls url until it answers 200, the process dies, or the time is up.
func waitHTTP(ctx context.Context, p *proc.Proc, url string, headers map[string]string, timeout time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second, Transport: insecureTransport()}
	var last string
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		if p.Exited() {
			return false, failure(p, "exited during start-up")
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			last = err.Error()
			return false, nil
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		last = fmt.Sprintf("%d %s", resp.StatusCode, body)
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		if p.Exited() {
			return failure(p, "exited during start-up")
		}
		return failure(p, fmt.Sprintf("not healthy at %s: %s (%v)", url, tail(last, 500), err))
	}
	return nil
}
