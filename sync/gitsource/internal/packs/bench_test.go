package packs

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// benchRepoEnv names a git repository (its work tree) whose history is in
// many packs, as go-git's fetches leave a clone: bench/bigrepo/many-packs.sh
// makes one of 1,001.
const benchRepoEnv = "PACKS_BENCH_REPO"

// reader is what is compared: go-git's own reader of packs, and Set.
type reader interface {
	Has(plumbing.Hash) bool
	Get(plumbing.Hash) (plumbing.EncodedObject, error)
}

type goGit struct{ *filesystem.Storage }

func (g goGit) Has(h plumbing.Hash) bool { return g.HasEncodedObject(h) == nil }
func (g goGit) Get(h plumbing.Hash) (plumbing.EncodedObject, error) {
	return g.EncodedObject(plumbing.AnyObject, h)
}

// BenchmarkManyPacks reads every object of the repository through go-git's
// reader and through Set, over its packs and then over them merged: the
// time of one lookup (Has) and one read (Get, with an 8 MiB cache of
// objects), and the heap each holds once every object was read (heap-MB,
// with no cache of objects).
func BenchmarkManyPacks(b *testing.B) {
	src := os.Getenv(benchRepoEnv)
	if src == "" {
		b.Skip(benchRepoEnv + " names no repository")
	}
	out, err := exec.Command("git", "-C", src, "rev-list", "--objects", "--all").Output()
	if err != nil {
		b.Fatal(err)
	}
	var objs []plumbing.Hash
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		objs = append(objs, plumbing.NewHash(strings.Fields(line)[0]))
	}
	git, packs := linkPacks(b, src)
	dir := filepath.Join(git, "objects", "pack")
	open := map[string]func(cache.FileSize) reader{
		"go-git": func(size cache.FileSize) reader {
			return goGit{filesystem.NewStorage(osfs.New(git), cache.NewObjectLRU(size))}
		},
		"set": func(size cache.FileSize) reader {
			s, err := Open(dir, cache.NewObjectLRU(size))
			if err != nil {
				b.Fatal(err)
			}
			return s
		},
	}
	count := len(packs) / 2
	for _, name := range []string{"go-git", "set", "merged"} {
		if name == "merged" {
			s := open["set"](0).(*Set)
			ids := s.ToMerge(maxPacksBench)
			id, err := Merge(dir, ids)
			if err == nil {
				err = s.Replace(id, ids)
			}
			if err != nil {
				b.Fatal(err)
			}
			count = s.Count()
			_ = s.Close()
			name, open[name] = "set", open["set"]
		}
		b.Run(name+"/packs="+strconv.Itoa(count), func(b *testing.B) {
			// What a reader holds once it read every object, its cache of
			// objects left out (an empty one).
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			r := open[name](0)
			for _, h := range objs {
				if _, err := r.Get(h); err != nil {
					b.Fatal(h, err)
				}
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			runtime.KeepAlive(r)
			held := float64(after.HeapAlloc-before.HeapAlloc) / (1 << 20)
			r = open[name](8 << 20)
			b.Run("has", func(b *testing.B) {
				for i := 0; b.Loop(); i++ {
					r.Has(objs[i%len(objs)])
				}
				b.ReportMetric(held, "heap-MB")
			})
			b.Run("get", func(b *testing.B) {
				for i := 0; b.Loop(); i++ {
					if _, err := r.Get(objs[i%len(objs)]); err != nil {
						b.Fatal(err)
					}
				}
			})
			runtime.KeepAlive(r)
		})
	}
}

// maxPacksBench is sync/gitsource's maxPacks.
const maxPacksBench = 32

// linkPacks copies the packs of the repository src (its work tree) into
// a new bare one (hard links): a merge removes those it merged. It
// returns the new repository and the names of its pack files.
func linkPacks(b *testing.B, src string) (string, []string) {
	git := filepath.Join(b.TempDir(), "repo.git")
	dir := filepath.Join(git, "objects", "pack")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	packs, _ := filepath.Glob(filepath.Join(src, ".git", "objects", "pack", "pack-*"))
	for _, p := range packs {
		if err := os.Link(p, filepath.Join(dir, filepath.Base(p))); err != nil {
			b.Fatal(err)
		}
	}
	return git, packs
}

// BenchmarkMerge merges the packs of the repository as a fetch past
// maxPacks does: all but the largest, into one.
func BenchmarkMerge(b *testing.B) {
	src := os.Getenv(benchRepoEnv)
	if src == "" {
		b.Skip(benchRepoEnv + " names no repository")
	}
	git, _ := linkPacks(b, src)
	dir := filepath.Join(git, "objects", "pack")
	s, err := Open(dir, cache.NewObjectLRU(0))
	if err != nil {
		b.Fatal(err)
	}
	ids := s.ToMerge(maxPacksBench)
	_ = s.Close()
	for b.Loop() {
		id, err := Merge(dir, ids)
		if err != nil {
			b.Fatal(err)
		}
		base := filepath.Join(dir, "pack-"+id.String())
		if err := errors.Join(os.Remove(base+".pack"), os.Remove(base+".idx")); err != nil {
			b.Fatal(err) // else the next merge finds its pack in place and writes nothing
		}
	}
	b.ReportMetric(float64(len(ids)), "packs")
}
