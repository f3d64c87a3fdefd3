//go:build linux && (amd64 || arm64)

package sandbox_test

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/sync/render/internal/sandbox"
)

// The test binary started again with SANDBOX_TEST set tries, confined or
// not, everything a build must not do, and prints one line per try.
func TestMain(m *testing.M) {
	if mode := os.Getenv("SANDBOX_TEST"); mode != "" {
		os.Exit(child(mode, os.Getenv("SANDBOX_TEST_ADDR")))
	}
	os.Exit(m.Run())
}

func child(mode, addr string) int {
	// A thread that exists before confinement, as the Go runtime's do.
	early := make(chan string)
	go func() {
		runtime.LockOSThread()
		<-early
		_, err := net.DialTimeout("tcp", addr, time.Second)
		early <- fmt.Sprint("early thread dial: ", err)
	}()
	cpu := time.Second
	if mode == "memory" {
		cpu = time.Minute // only the memory limit ends it, however busy the machine
	}
	if mode != "open" {
		if err := sandbox.Enter(256<<20, cpu); err != nil {
			fmt.Println("enter:", err)
			return 3
		}
	}
	early <- ""
	fmt.Println(<-early)
	_, err := net.DialTimeout("tcp", addr, time.Second)
	fmt.Println("dial:", err)
	_, err = net.ListenPacket("udp", "127.0.0.1:0")
	fmt.Println("udp:", err)
	_, err = net.LookupHost("sandbox-test.example.com") // a DNS query
	fmt.Println("lookup:", err)
	err = exec.Command("/bin/sh", "-c", "true").Run()
	fmt.Println("exec:", err)
	f, err := os.Open(os.Getenv("SANDBOX_TEST_FILE")) // a file that exists
	if err == nil {
		f.Close()
	}
	fmt.Println("open file:", err)
	switch mode {
	case "wait":
		// Runs confined until its parent closes stdin.
		_, _ = os.Stdin.Read(make([]byte, 1))
	case "memory":
		var keep [][]byte
		for i := 1; ; i++ {
			b := make([]byte, 8<<20)
			for j := range b {
				b[j] = 1
			}
			keep = append(keep, b)
			runtime.KeepAlive(keep)
			fmt.Println("allocated MiB:", 8*i)
		}
	case "spin":
		for x := 0; ; x++ {
			_ = x * x
		}
	}
	return 0
}

func run(t *testing.T, mode string) (lines []string, connections int64, err error) {
	t.Helper()
	ln, lerr := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, lerr)
	defer ln.Close()
	var count atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			count.Add(1)
			c.Close()
		}
	}()
	file := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(file, []byte("secret"), 0o600))
	cmd := exec.Command(os.Args[0])
	cmd.Env = []string{"SANDBOX_TEST=" + mode, "SANDBOX_TEST_ADDR=" + ln.Addr().String(), "SANDBOX_TEST_FILE=" + file,
		"GOTRACEBACK=none", "GODEBUG=netdns=go"}
	out, err := cmd.CombinedOutput()
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines, count.Load(), err
}

func TestEnterDeniesNetworkAndPrograms(t *testing.T) {
	// Unconfined, the same process reaches the listener and runs programs:
	// the test can tell.
	lines, conns, err := run(t, "open")
	require.NoError(t, err, "%v", lines)
	require.Equal(t, int64(2), conns, "%v", lines)
	require.Contains(t, lines, "exec: <nil>")
	require.Contains(t, lines, "udp: <nil>")
	require.Contains(t, lines, "open file: <nil>")

	lines, conns, err = run(t, "confined")
	require.NoError(t, err, "%v", lines)
	require.Zero(t, conns, "%v", lines)
	require.Len(t, lines, 6)
	for _, l := range lines {
		require.Contains(t, l, "operation not permitted", "every try fails: %v", lines)
	}
}

// A confined process is the one the OOM killer picks first, so a build that
// fills the memory it shares with the agent is killed, not the agent.
func TestEnterMakesTheProcessTheOOMKillersFirstChoice(t *testing.T) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = []string{"SANDBOX_TEST=wait", "SANDBOX_TEST_ADDR=127.0.0.1:9", "GODEBUG=netdns=go"}
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	defer func() { _ = cmd.Wait() }()
	defer stdin.Close()
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && !strings.HasPrefix(sc.Text(), "open file:") {
	}
	score, err := os.ReadFile(fmt.Sprintf("/proc/%d/oom_score_adj", cmd.Process.Pid))
	require.NoError(t, err)
	require.Equal(t, "1000", strings.TrimSpace(string(score)))
}

func TestEnterBoundsMemory(t *testing.T) {
	lines, _, err := run(t, "memory")
	require.Error(t, err, "the process dies")
	out := strings.Join(lines, "\n")
	require.Regexp(t, "out of memory|cannot allocate memory", out, "ended by %v", err)
	require.NotContains(t, out, "allocated MiB: 256", "it died before its heap reached the limit")
}

func TestEnterBoundsProcessorTime(t *testing.T) {
	start := time.Now()
	cmd := exec.Command(os.Args[0])
	cmd.Env = []string{"SANDBOX_TEST=spin", "SANDBOX_TEST_ADDR=127.0.0.1:9"}
	err := cmd.Run()
	require.Error(t, err)
	require.True(t, sandbox.OutOfTime(cmd.ProcessState, time.Second), "%v after %v", err, time.Since(start))
	require.False(t, sandbox.OutOfTime(cmd.ProcessState, 10*time.Second))
}
