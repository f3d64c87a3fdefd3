package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/syncgate/syncgate/bench/internal/benchenv"
)

// check adds whether every one of shas got exactly one final answer per
// namespace: from the Versions in the end, from every Version written on
// the way, and from /wait on every live replica.
func (s *trial) check(ctx context.Context, t *benchenv.Column, shas []string) error {
	l, err := s.w.checkVersions(ctx, shas)
	if err != nil {
		return err
	}
	t.Add("Versions: (namespace, commit) with one entry, deployed", "%d of %d", l.deployed, l.entries)
	t.Add("Versions: missing / recorded twice / not deployed", "%d / %d / %d", len(l.missing), len(l.twice), len(l.other))
	show("missing", l.missing)
	show("recorded twice", l.twice)
	show("not deployed", l.other)
	contradicted, twice := s.w.verdicts.problems()
	t.Add("Versions as written: verdicts changed / entries twice", "%d / %d", len(contradicted), len(twice))
	show("verdict changed", contradicted)
	show("entry twice in a Version", twice)
	codes, err := askWait(ctx, s.live(), shas)
	if err != nil {
		return err
	}
	var parts []string
	for code, n := range codes {
		parts = append(parts, fmt.Sprintf("%d × %d", code, n))
	}
	sort.Strings(parts)
	t.Add(fmt.Sprintf("/wait of the %d commits on each of %d live replicas", len(shas), len(s.live())), "%s", strings.Join(parts, ", "))
	return nil
}

// show prints up to five examples of a problem to stderr.
func show(what string, examples []string) {
	if len(examples) > 0 {
		fmt.Fprintf(os.Stderr, "%s: %s\n", what, strings.Join(examples[:min(5, len(examples))], ", "))
	}
}
