package cluster

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

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
func waitHTTP(ctx context.Context, p *proc.Proc, url string, header http.Header, timeout time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second, Transport: insecureTransport()}
	return p.AwaitReady(ctx, proc.Ready{URL: url, Header: header, Client: client, Timeout: timeout})
}
