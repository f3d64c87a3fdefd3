// Command bigrepo measures syncgate's git side on a big config repo: a
// generated history of 50,000 commits over 20,000 files (a few hundred MB
// packed; generated once with git fast-import and cached by shape), served
// over smart HTTP by git http-backend (testing/gitserver). It prints a
// Markdown table of times and peak memory:
//
//   - sync/gitsource in a child process per operation (so its peak RSS is
//     its own): a clone into an empty cache, a restart on the clone on
//     disk, incremental fetches of new commits, ancestry questions (is an
//     old commit an ancestor of the head, first and cached) and resolving a
//     7-character prefix of an old commit; `git clone --bare` of the same
//     URL as a yardstick;
//
//   - the syncgate binary on a local control plane following the repo:
//     start → head deployed (the clone included), `GET /wait/<prefix>` of
//     an old commit, a new commit pushed with a webhook → deployed, and the
//     agent's peak and final RSS.
//
//     go run ./bench/bigrepo [-commits 50000] [-files 20000] [-reps 3] [-agent=true]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/syncgate/syncgate/bench/internal/benchenv"
)

type options struct {
	shape shape
	reps  int
	agent bool
}

func main() {
	if raw := os.Getenv(childEnv); raw != "" {
		if err := runChild(raw); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		return
	}
	o := options{shape: shape{Namespace: "bench-big"}}
	flag.IntVar(&o.shape.Commits, "commits", 50000, "commits in the generated history")
	flag.IntVar(&o.shape.Files, "files", 20000, "files in the head commit")
	flag.IntVar(&o.shape.Touched, "touched", 3, "files rewritten by each commit after the first")
	flag.IntVar(&o.reps, "reps", 3, "repetitions of each gitsource operation")
	flag.BoolVar(&o.agent, "agent", true, "also run the syncgate binary on a local control plane")
	flag.Parse()
	if o.shape.Commits < 3 || o.shape.Files < 1 || o.shape.Touched < 1 || o.reps < 1 {
		fmt.Fprintln(os.Stderr, "bench: -commits needs at least 3; -files, -touched and -reps at least 1")
		os.Exit(2)
	}
	benchenv.Main(func(ctx context.Context) error { return run(ctx, o) })
}
