package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"time"

	"github.com/syncgate/syncgate/sync/gitsource"
	"github.com/syncgate/syncgate/testing/proc"
)

// childEnv, when set, makes this program a child following one clone (the
// JSON of a job), so that its memory is its own: it syncs once (a clone
// into an empty cache, or a restart on the clone on disk), asks the job's
// questions and prints its figures; then it syncs again for each line read
// on stdin (the parent pushed commits meanwhile), printing figures each
// time, as a running agent's fetches would.
const childEnv = "SYNCGATE_BIGREPO_CHILD"

// job is what a child follows and asks after its first Sync.
type job struct {
	URL, CacheDir string
	// Ask are commits whose ancestry of the head is asked, each twice
	// (the second answer comes from the cache); Prefixes are resolved.
	Ask      []string
	Prefixes []string
}

// figures are what a child measured for one Sync (and the questions after
// the first).
type figures struct {
	Head    string
	Sync    time.Duration // listing and, when the head moved, fetch and history walk
	Fetches int64
	// PeakAnon is the most anonymous memory (heap, stacks) seen during the
	// step, sampled every 5 ms; Peak is VmHWM, which also counts the pages
	// of the pack files read through the page cache.
	PeakAnon, Peak int64
	Ask, AskAgain  []time.Duration
	Ancestors      []bool
	Resolve        []time.Duration
	ResolvedTo     []string
}

func runChild(raw string) error {
	var j job
	if err := json.Unmarshal([]byte(raw), &j); err != nil {
		return err
	}
	var peak atomic.Int64
	go func() {
		for {
			if v, err := proc.Memory(os.Getpid(), "RssAnon"); err == nil && v > peak.Load() {
				peak.Store(v)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	src, err := gitsource.New(gitsource.Options{URL: j.URL, CacheDir: j.CacheDir})
	if err != nil {
		return err
	}
	out := json.NewEncoder(os.Stdout)
	in := bufio.NewScanner(os.Stdin)
	for step := 0; ; step++ {
		if step > 0 && !in.Scan() {
			return in.Err()
		}
		peak.Store(0)
		var f figures
		began := time.Now()
		if f.Head, err = src.Sync(context.Background()); err != nil {
			return err
		}
		f.Sync = time.Since(began)
		if step == 0 {
			if err := ask(src, j, &f); err != nil {
				return err
			}
		}
		f.Fetches = src.Fetches()
		f.PeakAnon = peak.Load()
		if f.Peak, err = proc.Memory(os.Getpid(), "VmHWM"); err != nil {
			return err
		}
		if err := out.Encode(f); err != nil {
			return err
		}
	}
}

func ask(src *gitsource.Source, j job, f *figures) error {
	for _, sha := range j.Ask {
		for _, again := range []bool{false, true} {
			began := time.Now()
			ok, err := src.IsAncestor(sha, f.Head)
			if err != nil {
				return fmt.Errorf("is %s an ancestor of %s: %w", sha, f.Head, err)
			}
			if again {
				f.AskAgain = append(f.AskAgain, time.Since(began))
			} else {
				f.Ask = append(f.Ask, time.Since(began))
				f.Ancestors = append(f.Ancestors, ok)
			}
		}
	}
	for _, p := range j.Prefixes {
		began := time.Now()
		sha, err := src.Resolve(p)
		if err != nil {
			return err
		}
		f.Resolve = append(f.Resolve, time.Since(began))
		f.ResolvedTo = append(f.ResolvedTo, sha)
	}
	return nil
}

// child is a running child process.
type child struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	out    *bufio.Scanner
	stderr strings.Builder
}

// startChild runs j in a child process and returns its first figures.
func startChild(ctx context.Context, j job) (*child, figures, error) {
	b, err := json.Marshal(j)
	if err != nil {
		return nil, figures{}, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, figures{}, err
	}
	c := &child{cmd: exec.CommandContext(ctx, self)}
	c.cmd.Env = append(os.Environ(), childEnv+"="+string(b))
	c.cmd.Stderr = &c.stderr
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		return nil, figures{}, err
	}
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		return nil, figures{}, err
	}
	c.out = bufio.NewScanner(stdout)
	if err := c.cmd.Start(); err != nil {
		return nil, figures{}, err
	}
	f, err := c.next()
	if err != nil {
		c.close()
		return nil, figures{}, err
	}
	return c, f, nil
}

// sync has the child sync again and returns its figures.
func (c *child) sync() (figures, error) {
	if _, err := io.WriteString(c.stdin, "sync\n"); err != nil {
		return figures{}, fmt.Errorf("child: %w: %s", err, c.stderr.String())
	}
	return c.next()
}

func (c *child) next() (figures, error) {
	if !c.out.Scan() {
		return figures{}, fmt.Errorf("child ended: %v: %s", c.out.Err(), c.stderr.String())
	}
	var f figures
	if err := json.Unmarshal(c.out.Bytes(), &f); err != nil {
		return figures{}, fmt.Errorf("child said %q: %w", c.out.Text(), err)
	}
	return f, nil
}

// close ends the child: it exits when its stdin closes.
func (c *child) close() error {
	c.stdin.Close()
	if err := c.cmd.Wait(); err != nil {
		return fmt.Errorf("child: %w: %s", err, c.stderr.String())
	}
	return nil
}
