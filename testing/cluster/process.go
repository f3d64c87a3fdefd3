package cluster

import (
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"

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
	return fmt.Errorf("%s: %s (%s); log %s:\n%s", p.Name, what, state, p.LogPath, p.LogTail(3000))
}

// freePorts reserves n distinct loopback ports.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for len(ports) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func hostPort(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }
