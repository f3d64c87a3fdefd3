package soak_test

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/syncgate/syncgate/testing/cluster"
	"github.com/syncgate/syncgate/testing/soak"
)

func TestMain(m *testing.M) { os.Exit(cluster.Main(m, cluster.Options{})) }

// A short seeded soak: a couple of dozen commits of every kind with faults,
// every invariant checked. SYNCGATE_SOAK_SEED and SYNCGATE_SOAK_COMMITS
// override the seed and the length; go run ./bench/soak is the long run.
func TestSoak(t *testing.T) {
	c := cluster.Shared(t)
	opts := soak.Options{
		Cluster:       c,
		Seed:          7,
		Commits:       24,
		Namespaces:    2,
		HealthTimeout: 20 * time.Second,
		FaultRate:     0.5,
		MaxDuration:   6 * time.Minute,
		WorkDir:       t.TempDir(),
		Log:           testWriter{t},
	}
	if v, err := strconv.ParseInt(os.Getenv("SYNCGATE_SOAK_SEED"), 10, 64); err == nil {
		opts.Seed = v
	}
	if v, err := strconv.Atoi(os.Getenv("SYNCGATE_SOAK_COMMITS")); err == nil {
		opts.Commits = v
	}
	rep, err := soak.Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rep.Print(&out)
	t.Log(out.String())
	if len(rep.Violations) > 0 {
		t.Errorf("%d invariants violated (seed %d); see the table above", len(rep.Violations), rep.Seed)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(b, "\n")))
	return len(b), nil
}
