// Command syncgate-cluster starts and stops the local control plane that
// syncgate's tests and demo use (etcd, kube-apiserver, controller-manager,
// scheduler, kwok nodes), and prebuilds the binaries they need.
//
//	syncgate-cluster build   build (or find cached) etcd, kube-*, kwok, versitygw
//	syncgate-cluster up      start a control plane in the background, print KUBECONFIG
//	syncgate-cluster down    stop it and remove its data
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
		fmt.Fprintln(fs.Output(), "usage: syncgate-cluster [--dir D] [--nodes N] build|up|down")
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch cmd {
	case "build":
		err = build(ctx)
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

func build(ctx context.Context) error {
	for _, t := range []cluster.Tool{cluster.Etcd, cluster.Kube, cluster.Kwok, s3server.Versitygw} {
		start := time.Now()
		d, err := t.Ensure(ctx, logf)
		if err != nil {
			return err
		}
		logf("%-10s %s (%s)", t.Module, d, time.Since(start).Round(time.Second))
	}
	return nil
}

// up starts `serve` detached from this terminal and waits until it reports
// the control plane ready.
func up(ctx context.Context, dir string, nodes int) error {
	if pid, ok := running(dir); ok {
		kc, _ := os.ReadFile(filepath.Join(dir, "kubeconfig.path"))
		fmt.Printf("already running (pid %d)\nKUBECONFIG=%s\n", pid, strings.TrimSpace(string(kc)))
		return nil
	}
	if err := build(ctx); err != nil {
		return err
	}
	_ = os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	logPath := filepath.Join(dir, "serve.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	start := time.Now()
	cmd := exec.Command(self, "serve", "--dir", dir, "--nodes", strconv.Itoa(nodes))
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	ready := filepath.Join(dir, "kubeconfig.path")
	for {
		if b, err := os.ReadFile(ready); err == nil && len(b) > 0 {
			fmt.Printf("control plane ready in %s (pid %d)\nKUBECONFIG=%s\n\n  export KUBECONFIG=%s\n  kubectl get nodes\n  make cluster-down\n",
				time.Since(start).Round(100*time.Millisecond), cmd.Process.Pid, b, b)
			return nil
		}
		select {
		case err := <-exited:
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("control plane did not start (%v):\n%s", err, log)
		case <-ctx.Done():
			_ = cmd.Process.Signal(syscall.SIGTERM)
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// serve runs the control plane until SIGTERM.
func serve(ctx context.Context, dir string, nodes int) error {
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return err
	}
	c, err := cluster.Start(ctx, cluster.Options{Nodes: nodes, Dir: data, Log: os.Stderr})
	if err != nil {
		return err
	}
	defer func() {
		c.Stop()
		_ = os.RemoveAll(data)
		_ = os.Remove(filepath.Join(dir, "pid"))
	}()
	if err := os.WriteFile(filepath.Join(dir, "pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "kubeconfig.path"), []byte(c.KubeconfigPath()), 0o644); err != nil {
		return err
	}
	<-ctx.Done()
	logf("stopping control plane")
	return nil
}

func running(dir string) (int, bool) {
	b, err := os.ReadFile(filepath.Join(dir, "pid"))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || syscall.Kill(pid, 0) != nil {
		return 0, false
	}
	return pid, true
}

func down(dir string) error {
	pid, ok := running(dir)
	if !ok {
		fmt.Println("no control plane running")
		return os.RemoveAll(dir)
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return err
	}
	deadline := time.Now().Add(30 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			return errors.New("control plane did not stop in 30s; killed")
		}
		time.Sleep(100 * time.Millisecond)
	}
	fmt.Println("control plane stopped")
	return os.RemoveAll(dir)
}
