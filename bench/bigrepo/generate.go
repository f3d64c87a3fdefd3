package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/syncgate/syncgate/testing/cluster"
)

// generator is bumped whenever the generated history changes, so a cached
// repository of an older shape is not reused.
const generator = 1

// shape is what the generated repository holds.
type shape struct {
	Commits, Files int
	// Touched files are rewritten by each commit after the first.
	Touched int
	// Namespace is the one directory syncgate renders: a ConfigMap,
	// written by the first commit and by every 1,000th.
	Namespace string
}

func (s shape) key() string {
	return fmt.Sprintf("v%d-%dc-%df-%dt-%s", generator, s.Commits, s.Files, s.Touched, s.Namespace)
}

// repoInfo is a generated repository and the commits the benchmark asks
// about, oldest first.
type repoInfo struct {
	Bare                  string `json:"-"`
	First, Middle, Parent string
	Head                  string
	PackBytes             int64
	Took                  time.Duration
}

// cachedRepo returns the repository of shape s, generating it with git
// fast-import on first use into <cache>/bigrepo/<key>.
func cachedRepo(s shape, log func(string, ...any)) (*repoInfo, error) {
	bin, err := cluster.CacheDir()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(filepath.Dir(bin), "bigrepo", s.key())
	meta := filepath.Join(dir, "info.json")
	if b, err := os.ReadFile(meta); err == nil {
		info := &repoInfo{Bare: filepath.Join(dir, "repo.git")}
		if err := json.Unmarshal(b, info); err == nil {
			return info, nil
		}
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+s.key()+"-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	log("generating %d commits over %d files into %s (cached afterwards)", s.Commits, s.Files, dir)
	began := time.Now()
	bare := filepath.Join(tmp, "repo.git")
	if out, err := exec.Command("git", "init", "--quiet", "--bare", "--initial-branch=main", bare).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("git init: %w: %s", err, out)
	}
	if err := fastImport(bare, s); err != nil {
		return nil, err
	}
	info := &repoInfo{Took: time.Since(began)}
	for _, q := range []struct {
		to  *string
		rev string
	}{
		{&info.First, fmt.Sprintf("main~%d", s.Commits-1)},
		{&info.Middle, fmt.Sprintf("main~%d", s.Commits/2)},
		{&info.Parent, "main~1"},
		{&info.Head, "main"},
	} {
		out, err := exec.Command("git", "-C", bare, "rev-parse", q.rev).Output()
		if err != nil {
			return nil, fmt.Errorf("rev-parse %s: %w", q.rev, err)
		}
		*q.to = strings.TrimSpace(string(out))
	}
	if info.PackBytes, err = packBytes(bare); err != nil {
		return nil, err
	}
	b, err := json.Marshal(info)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(tmp, "info.json"), b, 0o644); err != nil {
		return nil, err
	}
	_ = os.RemoveAll(dir)
	if err := os.Rename(tmp, dir); err != nil {
		return nil, err
	}
	info.Bare = filepath.Join(dir, "repo.git")
	log("generated in %s: %d MB packed", info.Took.Round(time.Second), info.PackBytes>>20)
	return info, nil
}

// packBytes is the size of the repository's pack files.
func packBytes(bare string) (int64, error) {
	packs, err := filepath.Glob(filepath.Join(bare, "objects", "pack", "*.pack"))
	if err != nil {
		return 0, err
	}
	var n int64
	for _, p := range packs {
		fi, err := os.Stat(p)
		if err != nil {
			return 0, err
		}
		n += fi.Size()
	}
	return n, nil
}

// fastImport writes the history into bare in one git fast-import stream:
// straight into a pack, no working tree, no per-commit process.
func fastImport(bare string, s shape) error {
	cmd := exec.Command("git", "-c", "fastimport.unpackLimit=0", "fast-import", "--quiet", "--done")
	cmd.Dir = bare
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	werr := writeHistory(stdin, s)
	if cerr := stdin.Close(); werr == nil {
		werr = cerr
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("git fast-import: %w: %s", err, stderr.String())
	}
	return werr
}

// writeHistory is the fast-import stream: a first commit with every file,
// then commits rewriting s.Touched files each (a deterministic walk), and
// the namespace's ConfigMap now and then.
func writeHistory(w io.Writer, s shape) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	const epoch = 1735689600 // 2025-01-01
	for c := range s.Commits {
		msg := fmt.Sprintf("change %d", c)
		fmt.Fprintf(bw, "commit refs/heads/main\ncommitter bench <bench@syncgate.invalid> %d +0000\ndata %d\n%s\n", epoch+60*c, len(msg), msg)
		if c == 0 {
			for f := range s.Files {
				inline(bw, filePath(f), content(rng, f, c))
			}
		} else {
			for range s.Touched {
				f := rng.IntN(s.Files)
				inline(bw, filePath(f), content(rng, f, c))
			}
		}
		if c%1000 == 0 {
			inline(bw, s.Namespace+"/settings.yaml", fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {generation: \"%d\"}\n", c/1000))
		}
		fmt.Fprintln(bw)
	}
	fmt.Fprintln(bw, "done")
	return bw.Flush()
}

func inline(w io.Writer, path, data string) {
	fmt.Fprintf(w, "M 644 inline %s\ndata %d\n%s\n", path, len(data), data)
}

// filePath spreads files over 200 directories of services, as a monorepo
// of manifests and code would.
func filePath(f int) string {
	return fmt.Sprintf("services/svc-%03d/file-%05d.yaml", f%200, f)
}

// content is about 2 KB of YAML whose values are random hex: it deflates
// to about half, and does not delta against other files.
func content(rng *rand.Rand, f, c int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# file %d, revision %d\nentries:\n", f, c)
	for range 32 {
		fmt.Fprintf(&b, "  - {key: k%016x, value: %016x%016x}\n", rng.Uint64(), rng.Uint64(), rng.Uint64())
	}
	return b.String()
}
