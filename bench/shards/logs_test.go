package main

import (
	"strings"
	"testing"
	"time"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/version"
)

func TestParseWork(t *testing.T) {
	log := strings.Join([]string{
		`time=2026-11-30T07:00:00Z level=INFO msg="commit applied" namespace=a shard=0 sha=aaa applied=1 unchanged=0 pruned=0`,
		`time=2026-11-30T07:00:01Z level=INFO msg="commit deployed: its inputs here are those of the commit before" namespace=b shard=1 sha=bbb`,
		`time=2026-11-30T07:00:02Z level=INFO msg="config repo head moved" sha=ccc`,
		`time=2026-11-30T07:00:03Z level=DEBUG msg=step namespace=c step=apply sha=ddd`,
	}, "\n")
	w, err := parseWork(strings.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	if len(w) != 2 || !w["a"]["aaa"] || !w["b"]["bbb"] {
		t.Fatalf("got %v, want a/aaa and b/bbb only", w)
	}
	n, example := w.outside([]string{"aaa", "bbb"}, func(ns string) bool { return ns == "a" })
	if n != 1 || example != "b" {
		t.Errorf("outside: got %d (%s), want 1 (b)", n, example)
	}
	if got := w.namespaces([]string{"aaa", "zzz"}); got != 1 {
		t.Errorf("namespaces: got %d, want 1", got)
	}
}

func TestVerdictsSeeAChangeAndATwiceRecordedCommit(t *testing.T) {
	vs := newVerdicts()
	v := &version.Version{}
	v.Namespace = "a"
	v.Status.History = []version.Commit{{SHA: "s2", State: status.Deployed}, {SHA: "s1", State: status.Superseded}}
	vs.note(v, time.Now())
	v.Status.History = []version.Commit{{SHA: "s2", State: status.Deployed}, {SHA: "s1", State: status.Superseded, Outcome: status.Deployed}}
	vs.note(v, time.Now())
	if c, twice := vs.problems(); len(c) != 0 || len(twice) != 0 {
		t.Fatalf("a held commit given its carrier's outcome: got %v / %v", c, twice)
	}
	v.Status.History = []version.Commit{{SHA: "s2", State: status.Failed}, {SHA: "s1", State: status.Deployed}, {SHA: "s1", State: status.Deployed}}
	vs.note(v, time.Now())
	c, twice := vs.problems()
	if len(c) != 1 || len(twice) != 1 {
		t.Fatalf("got changed %v, twice %v; want one of each", c, twice)
	}
}
