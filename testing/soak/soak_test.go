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

// A short seeded soak: a dozen commits with two rollbacks, a burst, both
// refusals and a crashloop, and faults (API server restart, leader kill,
// git, S3 and forge outages, the Version deleted); every invariant checked.
// SYNCGATE_SOAK_SEED and SYNCGATE_SOAK_COMMITS override the seed and the
// length, SYNCGATE_SOAK_BINARY the syncgate tested (default: built from
// this tree); go run ./bench/soak is the long run.
func TestSoak(t *testing.T) {
	c := cluster.Shared(t)
	opts := soak.Options{
		Cluster:       c,
		Seed:          252, // go run ./bench/soak -seed 252 -commits 12 -health-timeout 15s -fault-rate 0.5 -plan
		Commits:       12,
		Namespaces:    2,
		HealthTimeout: 15 * time.Second,
		FaultRate:     0.5,
		MaxDuration:   5 * time.Minute,
		Binary:        os.Getenv("SYNCGATE_SOAK_BINARY"),
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
