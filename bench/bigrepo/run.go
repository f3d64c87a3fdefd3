package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/syncgate/syncgate/bench/internal/benchenv"
	"github.com/syncgate/syncgate/testing/gitserver"
)

// row is one line of the table: a time and the memory figures of each
// repetition.
type row struct {
	name        string
	times       []time.Duration
	anon, peaks []int64
	note        string
}

func (r *row) add(d time.Duration, anon, peak int64) {
	r.times = append(r.times, d)
	if peak > 0 {
		r.anon = append(r.anon, anon)
		r.peaks = append(r.peaks, peak)
	}
}

func run(ctx context.Context, o options) error {
	logf := func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
	info, err := cachedRepo(o.shape, logf)
	if err != nil {
		return err
	}
	g, err := gitserver.Start(ctx, gitserver.Options{})
	if err != nil {
		return err
	}
	defer g.Close()
	// The served repository borrows the cached one's objects (alternates),
	// so the commits pushed here leave the cache as generated.
	served := g.RepoPath("big")
	if out, err := exec.CommandContext(ctx, "git", "clone", "--quiet", "--bare", "--shared", info.Bare, served).CombinedOutput(); err != nil {
		return fmt.Errorf("serve the repo: %w: %s", err, out)
	}
	url := g.HTTPURL("big")
	work, done, err := benchenv.WorkDir("bigrepo", false)
	if err != nil {
		return err
	}
	defer done()

	var rows []*row
	newRow := func(name, note string) *row {
		r := &row{name: name, note: note}
		rows = append(rows, r)
		return r
	}
	gitClone := newRow("`git clone --bare` (yardstick)", "")
	clone := newRow("gitsource: clone into an empty cache", "")
	restart := newRow("gitsource: restart on the clone on disk (history walked again)", "")
	fetch1 := newRow("gitsource: incremental fetch of 1 new commit", "")
	fetch100 := newRow("gitsource: incremental fetch of 100 new commits", "")
	askFirst := newRow("IsAncestor(first commit, head), first question", "")
	askCached := newRow("IsAncestor(first commit, head), asked again", "")
	askMiddle := newRow(fmt.Sprintf("IsAncestor(commit %d, head), first question", o.shape.Commits-o.shape.Commits/2), "")
	resolve := newRow("Resolve(7-character prefix of the first commit)", "")
	var cacheBytes int64

	head := info.Head
	for rep := range o.reps {
		logf("repetition %d of %d", rep+1, o.reps)
		dst := filepath.Join(work, "git-clone.git")
		began := time.Now()
		if out, err := exec.CommandContext(ctx, "git", "clone", "--quiet", "--bare", url, dst).CombinedOutput(); err != nil {
			return fmt.Errorf("git clone: %w: %s", err, out)
		}
		gitClone.add(time.Since(began), 0, 0)
		_ = os.RemoveAll(dst)

		cache := filepath.Join(work, fmt.Sprintf("cache-%d", rep))
		c, f, err := startChild(ctx, job{URL: url, CacheDir: cache})
		if err != nil {
			return fmt.Errorf("clone: %w", err)
		}
		if err := c.close(); err != nil {
			return err
		}
		if f.Head != head {
			return fmt.Errorf("clone: head %s, want %s", f.Head, head)
		}
		clone.add(f.Sync, f.PeakAnon, f.Peak)
		if cacheBytes, err = dirBytes(cache); err != nil {
			return err
		}

		c, f, err = startChild(ctx, job{URL: url, CacheDir: cache, Ask: []string{info.First, info.Middle}, Prefixes: []string{info.First[:7]}})
		if err != nil {
			return fmt.Errorf("restart: %w", err)
		}
		if f.Fetches != 0 || !f.Ancestors[0] || !f.Ancestors[1] || f.ResolvedTo[0] != info.First {
			c.close()
			return fmt.Errorf("restart: %d fetches, ancestors %v, %s resolved to %s", f.Fetches, f.Ancestors, info.First[:7], f.ResolvedTo[0])
		}
		restart.add(f.Sync, f.PeakAnon, f.Peak)
		askFirst.add(f.Ask[0], 0, 0)
		askCached.add(f.AskAgain[0], 0, 0)
		askMiddle.add(f.Ask[1], 0, 0)
		resolve.add(f.Resolve[0], 0, 0)

		for i, step := range []struct {
			r *row
			n int
		}{{fetch1, 1}, {fetch100, 100}} {
			if head, err = appendCommits(ctx, served, head, o.shape, step.n, rep*10+i); err != nil {
				c.close()
				return err
			}
			f, err := c.sync()
			if err != nil {
				return fmt.Errorf("fetch: %w", err)
			}
			if f.Head != head || f.Fetches != int64(i+1) {
				c.close()
				return fmt.Errorf("fetch: head %s after %d fetches, want %s after %d", f.Head, f.Fetches, head, i+1)
			}
			step.r.add(f.Sync, f.PeakAnon, f.Peak)
		}
		if err := c.close(); err != nil {
			return err
		}
		_ = os.RemoveAll(cache)
	}
	clone.note = fmt.Sprintf("clone on disk %d MB", cacheBytes>>20)
	restart.note = "then the questions below, in the same process"
	fetch1.note = "in the restarted process: listing, fetch, the new commits added to the graph"

	if o.agent {
		agentRows, err := runAgent(ctx, o, info, g, served, &head)
		if err != nil {
			return err
		}
		rows = append(rows, agentRows...)
	}
	fmt.Printf("\nBig config repo: %d commits, %d files, %d MB packed (git fast-import, generated in %s), served by git http-backend on loopback; median (min–max) of %d repetitions; %s\n\n",
		o.shape.Commits, o.shape.Files, info.PackBytes>>20, info.Took.Round(time.Second), o.reps, load())
	table(os.Stdout, rows)
	return nil
}

// appendCommits adds n commits on top of head in the served repository
// (each rewriting the shape's number of files) and returns the new head.
func appendCommits(ctx context.Context, bare, head string, s shape, n, salt int) (string, error) {
	var b strings.Builder
	for i := range n {
		msg := fmt.Sprintf("new %d.%d", salt, i)
		fmt.Fprintf(&b, "commit refs/heads/main\ncommitter bench <bench@syncgate.invalid> %d +0000\ndata %d\n%s\n", time.Now().Unix(), len(msg), msg)
		if i == 0 {
			fmt.Fprintf(&b, "from %s\n", head)
		}
		for t := range s.Touched {
			f := (salt*7919 + i*31 + t) % s.Files
			inline(&b, filePath(f), fmt.Sprintf("# file %d, appended %d.%d\n", f, salt, i))
		}
		b.WriteString("\n")
	}
	b.WriteString("done\n")
	cmd := exec.CommandContext(ctx, "git", "fast-import", "--quiet", "--done", "--force")
	cmd.Dir, cmd.Stdin = bare, strings.NewReader(b.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("append commits: %w: %s", err, out)
	}
	out, err := exec.CommandContext(ctx, "git", "-C", bare, "rev-parse", "main").Output()
	return strings.TrimSpace(string(out)), err
}

func dirBytes(dir string) (int64, error) {
	var n int64
	err := filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return err
	})
	return n, err
}

// load is the machine's load average, to say how noisy the figures are.
func load() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return fmt.Sprintf("load average at the end %s/%s/%s", f[0], f[1], f[2])
	}
	return "load unknown"
}

func table(w *os.File, rows []*row) {
	fmt.Fprintln(w, "| operation | time | peak anonymous memory | peak RSS (VmHWM, page cache of the packs included) | |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", r.name, spread(r.times, fmtDur), spread(r.anon, fmtMB), spread(r.peaks, fmtMB), r.note)
	}
}

// spread is the median and, with several values, the range.
func spread[T int64 | time.Duration](v []T, f func(T) string) string {
	if len(v) == 0 {
		return "—"
	}
	s := slices.Clone(v)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	if len(s) == 1 {
		return f(med)
	}
	return fmt.Sprintf("%s (%s–%s)", f(med), f(s[0]), f(s[len(s)-1]))
}

func fmtDur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
	case d < time.Second:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

func fmtMB(b int64) string { return fmt.Sprintf("%d MB", b>>20) }
