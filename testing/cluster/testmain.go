package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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
// SYNCGATE_SKIP_CLUSTER set it starts nothing and Shared skips.
func Main(m *testing.M, opts Options) int {
	flag.Parse()
	if testing.Short() || os.Getenv("SYNCGATE_SKIP_CLUSTER") != "" {
		sharedErr = errSkipped
		return m.Run()
	}
	if opts.Log == nil {
		opts.Log = os.Stderr
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute) // a cold build included
	shared, sharedErr = Start(ctx, opts)
	cancel()
	if sharedErr != nil {
		fmt.Fprintln(os.Stderr, "cluster:", sharedErr)
		return 1
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

var errSkipped = fmt.Errorf("no control plane in -short mode")

// Shared is the package's control plane started by Main; the test is skipped
// in -short mode.
func Shared(t testing.TB) *Cluster {
	t.Helper()
	if sharedErr == errSkipped {
		t.Skip("needs the local control plane (not in -short mode)")
	}
	if shared == nil {
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
