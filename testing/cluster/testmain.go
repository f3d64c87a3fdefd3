package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

var (
	shared    *Cluster
	sharedErr error
)

// Main is for TestMain: it starts one control plane for the whole package
// run, runs the tests and stops it, also on SIGINT/SIGTERM. With -short or
// SYNCGATE_SKIP_CLUSTER set it starts nothing and Shared skips. When the
// control plane does not start, the tests still run and every one that calls
// Shared fails with the reason, so the package fails however TestMain uses
// the returned exit code.
func Main(m *testing.M, opts Options) int {
	flag.Parse()
	if testing.Short() || os.Getenv("SYNCGATE_SKIP_CLUSTER") != "" {
		sharedErr = errSkipped
		return m.Run()
	}
	if opts.Log == nil {
		opts.Log = os.Stderr
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	ctx, cancelTimeout := context.WithTimeout(ctx, 20*time.Minute) // a cold build included
	shared, sharedErr = Start(ctx, opts)
	cancelTimeout()
	cancel()
	if sharedErr != nil {
		fmt.Fprintln(os.Stderr, "cluster:", sharedErr)
		return m.Run()
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		if _, ok := <-sig; ok {
			shared.Stop()
			os.Exit(130)
		}
	}()
	defer func() {
		signal.Stop(sig)
		close(sig)
		shared.Stop()
	}()
	return m.Run()
}

var errSkipped = errors.New("no control plane in -short mode")

// Shared is the package's control plane started by Main; the test is skipped
// in -short mode and fails when the control plane did not start.
func Shared(t testing.TB) *Cluster {
	t.Helper()
	switch {
	case errors.Is(sharedErr, errSkipped):
		t.Skip("needs the local control plane (not in -short mode or with SYNCGATE_SKIP_CLUSTER)")
	case sharedErr != nil:
		t.Fatalf("local control plane did not start: %v", sharedErr)
	case shared == nil:
		t.Fatal("cluster.Shared needs cluster.Main in TestMain")
	}
	return shared
}

// Namespace creates a fresh namespace named after the test and deletes it
// when the test ends.
func Namespace(t testing.TB, c *Cluster) string {
	t.Helper()
	kube, err := kubernetes.NewForConfig(c.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	name := strings.ToLower(t.Name())
	name = strings.Map(func(r rune) rune {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			return r
		}
		return '-'
	}, name)
	if len(name) > 50 {
		name = name[:50]
	}
	name = strings.Trim(name, "-") + "-" + hex.EncodeToString(b)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := kube.CoreV1().Namespaces().Create(context.Background(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = kube.CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	return name
}
