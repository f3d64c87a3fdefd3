// Command syncgate-cluster starts and stops the local control plane that
// syncgate's tests and demo use (etcd, kube-apiserver, controller-manager,
// scheduler, kwok nodes), and prebuilds the binaries they need.
//
//	syncgate-cluster build   build (or find cached) etcd, kube-*, kwok, versitygw,
//	                         and the CI runners act and gitlab-ci-local
//	syncgate-cluster up      start a control plane in the background, print KUBECONFIG
//	syncgate-cluster down    stop it and remove its data
//
// up re-executes itself as a detached supervisor (`serve`, in a session of
// its own) that runs the control plane until down sends it SIGTERM. The state
// directory (--dir) holds the supervisor's pid, the control plane's pids, the
// kubeconfig path and the logs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/syncgate/syncgate/testing/cirunner"
	"github.com/syncgate/syncgate/testing/cluster"
	"github.com/syncgate/syncgate/testing/s3server"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fs := flag.NewFlagSet("syncgate-cluster", flag.ContinueOnError)
	def, _ := os.UserCacheDir()
	dir := fs.String("dir", filepath.Join(def, "syncgate", "cluster"), "state directory of the background control plane")
	nodes := fs.Int("nodes", 3, "number of kwok nodes")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: syncgate-cluster build|up|down [--dir D] [--nodes N]")
		fs.PrintDefaults()
	}
	if len(args) == 0 {
		fs.Usage()
		return 2
	}
	cmd := args[0]
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	// One spelling of the state directory: it is how its processes are
	// recognised in their command lines.
	abs, err := filepath.Abs(*dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "syncgate-cluster:", err)
		return 2
	}
	*dir = abs
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch cmd {
	case "build":
		if err = build(ctx, cluster.Etcd, cluster.Kube, cluster.Kwok, s3server.Versitygw, cirunner.Act); err == nil {
			// The GitLab runner's test is skipped, saying why, without it.
			if bin, gerr := cirunner.GitLabCILocalBinary(ctx, logf); gerr != nil {
				logf("gitlab-ci-local not installed (its test will be skipped): %v", gerr)
			} else {
				logf("%-10s %s", "gitlab-ci-local", filepath.Dir(filepath.Dir(filepath.Dir(bin))))
			}
		}
	case "up":
		err = up(ctx, *dir, *nodes)
	case "down":
		err = down(*dir)
	case "serve":
		err = serve(ctx, *dir, *nodes)
	default:
		fs.Usage()
		return 2
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "syncgate-cluster:", err)
		return 1
	}
	return 0
}

func logf(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }

func build(ctx context.Context, tools ...cluster.Tool) error {
	for _, t := range tools {
		start := time.Now()
		d, err := t.Ensure(ctx, logf)
		if err != nil {
			return err
		}
		logf("%-10s %s (%s)", t.Module, d, time.Since(start).Round(time.Second))
	}
	return nil
}

// State files in the state directory.
const (
	pidFile        = "pid"             // the supervisor
	pidsFile       = "pids"            // the control plane's processes
	kubeconfigFile = "kubeconfig.path" // written once the control plane is ready
	serveLog       = "serve.log"
)

// up starts `serve` detached from this terminal and returns once it reports
// the control plane ready.
func up(ctx context.Context, dir string, nodes int) error {
	if pid, ok := running(dir); ok {
		kc, _ := os.ReadFile(filepath.Join(dir, kubeconfigFile))
		fmt.Printf("already running (pid %d)\nKUBECONFIG=%s\n", pid, strings.TrimSpace(string(kc)))
		return nil
	}
	// Builds happen here, in the foreground, so their progress is seen.
	if err := build(ctx, cluster.Etcd, cluster.Kube, cluster.Kwok); err != nil {
		return err
	}
	reap(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	logFile, err := os.Create(filepath.Join(dir, serveLog))
	if err != nil {
		return err
	}
	defer logFile.Close()
	start := time.Now()
	cmd := exec.Command(self, "serve", "--dir", dir, "--nodes", strconv.Itoa(nodes))
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start supervisor: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if kc, err := os.ReadFile(filepath.Join(dir, kubeconfigFile)); err == nil && len(kc) > 0 {
			fmt.Printf("control plane ready in %s (supervisor pid %d, logs in %s)\nKUBECONFIG=%s\n\n  export KUBECONFIG=%s\n  kubectl get nodes\n  make cluster-down\n",
				time.Since(start).Round(100*time.Millisecond), cmd.Process.Pid, dir, kc, kc)
			return nil
		}
		select {
		case err := <-exited:
			log, _ := os.ReadFile(filepath.Join(dir, serveLog))
			return fmt.Errorf("control plane did not start (%v):\n%s", err, log)
		case <-ctx.Done():
			_ = cmd.Process.Signal(syscall.SIGTERM)
			<-exited
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// serve runs the control plane until SIGTERM or SIGINT.
func serve(ctx context.Context, dir string, nodes int) error {
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, pidFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return err
	}
	defer os.Remove(filepath.Join(dir, pidFile))
	c, err := cluster.Start(ctx, cluster.Options{Nodes: nodes, Dir: data, Log: os.Stderr})
	if err != nil {
		return err
	}
	defer func() {
		c.Stop()
		_ = os.RemoveAll(data)
		_ = os.Remove(filepath.Join(dir, pidsFile))
		_ = os.Remove(filepath.Join(dir, kubeconfigFile))
	}()
	var pids []string
	for _, pid := range c.Pids() {
		pids = append(pids, strconv.Itoa(pid))
	}
	if err := os.WriteFile(filepath.Join(dir, pidsFile), []byte(strings.Join(pids, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, kubeconfigFile), []byte(c.KubeconfigPath()), 0o644); err != nil {
		return err
	}
	<-ctx.Done()
	logf("stopping control plane")
	return nil
}

// supervisorArgs is how the supervisor of dir shows in its command line
// (NUL-separated), so a pid reused by another process is not taken for it.
func supervisorArgs(dir string) string { return "\x00serve\x00--dir\x00" + dir + "\x00" }

// running is the supervisor's pid when it is alive.
func running(dir string) (int, bool) {
	b, err := os.ReadFile(filepath.Join(dir, pidFile))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || !alive(pid, supervisorArgs(dir)) {
		return 0, false
	}
	return pid, true
}

// alive: pid is a live process (not a zombie) whose command line mentions
// mark, so a recycled pid is not taken for ours.
func alive(pid int, mark string) bool {
	if pid <= 1 {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	if i := strings.LastIndexByte(string(stat), ')'); i < 0 || strings.HasPrefix(string(stat[i+1:]), " Z") {
		return false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && strings.Contains(string(cmdline), mark)
}

// reap kills whatever a supervisor that died without cleaning up left
// running, then removes the state directory.
func reap(dir string) {
	if b, err := os.ReadFile(filepath.Join(dir, pidsFile)); err == nil {
		for _, f := range strings.Fields(string(b)) {
			// Every control plane process has the state dir in its arguments.
			if pid, err := strconv.Atoi(f); err == nil && alive(pid, dir) {
				_ = syscall.Kill(-pid, syscall.SIGKILL)
			}
		}
	}
	_ = os.RemoveAll(dir)
}

func down(dir string) error {
	pid, ok := running(dir)
	if !ok {
		reap(dir)
		fmt.Println("no control plane running")
		return nil
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return fmt.Errorf("signal supervisor %d: %w", pid, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for alive(pid, supervisorArgs(dir)) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			reap(dir)
			return errors.New("control plane did not stop in 30s; killed")
		}
		time.Sleep(100 * time.Millisecond)
	}
	reap(dir)
	fmt.Println("control plane stopped")
	return nil
}
