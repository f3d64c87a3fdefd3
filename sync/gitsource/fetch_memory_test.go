package gitsource_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/sync/gitsource"
	"github.com/syncgate/syncgate/testing/gitserver"
)

// fetchChild, when set, makes TestFetchMemoryIsBounded the child process:
// the JSON of a fetchJob.
const fetchChild = "GITSOURCE_FETCH_CHILD"

type fetchJob struct {
	URL, CacheDir, Want, Old, Out string
}

// fetchFigures are what the child measured: its peak RSS after the fetch,
// and after reading the old commit's tree.
type fetchFigures struct {
	FetchRSS, ReadRSS int64
	Size              int64
	ReadErrs          []string
}

// One commit anywhere in the history with a 512 MiB file that is 1.5 MB
// on the wire: one fetch into a fresh cache must not cost its size in memory,
// and reading the file must be a refusal, not an allocation. Each fetch
// runs in a child process, so its peak RSS is its own: first a repo with
// the same head and no big file, for comparison, then the big one.
func TestFetchMemoryIsBounded(t *testing.T) {
	if job := os.Getenv(fetchChild); job != "" {
		runFetchChild(t, job)
		return
	}
	if testing.Short() {
		t.Skip("writes a 512 MiB file")
	}
	s := gitserver.StartT(t, gitserver.Options{})
	head := map[string]string{"team/cm.yaml": "kind: ConfigMap\nmetadata: {name: cm}\n"}

	small := s.CreateRepoT(t, "small")
	small.CommitT(t, "first", map[string]string{"team/README": "hello\n"})
	smallHead := small.CommitT(t, "head", head)

	big := s.CreateRepoT(t, "big")
	old, bigHead := importBig(t, big.BarePath(), head)

	base := fetchInChild(t, fetchJob{URL: s.HTTPURL("small"), Want: smallHead})
	got := fetchInChild(t, fetchJob{URL: s.HTTPURL("big"), Want: bigHead, Old: old})
	t.Logf("peak RSS of one fetch into a fresh cache: %d MiB without the big file, %d MiB with it (%d MiB after reading it)",
		base.FetchRSS>>20, got.FetchRSS>>20, got.ReadRSS>>20)

	require.Less(t, got.FetchRSS, base.FetchRSS+fetchMemoryBound,
		"the fetch held the big file in memory: %d MiB against %d MiB", got.FetchRSS>>20, base.FetchRSS>>20)
	require.Less(t, got.ReadRSS, base.FetchRSS+fetchMemoryBound, "reading the big file allocated it")
	require.EqualValues(t, bigFile, got.Size, "Stat reads the size from the object's header")
	require.Equal(t, []string{
		"read team/dump.yaml: file too large: 536870912 bytes, more than the 16777216 syncgate reads",
		"read dump.yaml: file too large: 536870912 bytes, more than the 16777216 syncgate reads",
		"open team/link.yaml: team/link.yaml: read symlink: target longer than 4096 bytes",
	}, got.ReadErrs)
}

const (
	bigFile = 512 << 20
	// fetchMemoryBound is what a fetch may cost beyond one of a repo
	// without the big file.
	fetchMemoryBound = 32 << 20
)

// importBig makes three commits in the bare repository with git
// fast-import, which deflates the big file once, straight into a pack:
// a first one, one adding the big file (and a symlink whose target is the
// same blob, which git cannot check out), and a head that removes both
// and holds files.
func importBig(t *testing.T, bare string, files map[string]string) (old, head string) {
	t.Helper()
	r, w := io.Pipe()
	go func() {
		bw := bufio.NewWriterSize(w, 1<<20)
		fmt.Fprintf(bw, "blob\nmark :1\ndata %d\n", bigFile)
		writeCompressible(bw, bigFile)
		fmt.Fprintf(bw, "\n")
		commit := func(msg string, changes ...string) {
			fmt.Fprintf(bw, "commit refs/heads/main\ncommitter t <t@example.com> 1735689600 +0000\ndata %d\n%s\n", len(msg), msg)
			for _, c := range changes {
				fmt.Fprintln(bw, c)
			}
			fmt.Fprintln(bw)
		}
		commit("first", "M 644 inline team/README\ndata 6\nhello\n")
		commit("a big file", "M 644 :1 team/dump.yaml", "M 120000 :1 team/link.yaml")
		changes := []string{"D team/dump.yaml", "D team/link.yaml"}
		for name, content := range files {
			changes = append(changes, fmt.Sprintf("M 644 inline %s\ndata %d\n%s", name, len(content), content))
		}
		commit("head", changes...)
		_ = w.CloseWithError(bw.Flush())
	}()
	cmd := exec.Command("git", "-c", "fastimport.unpackLimit=0", "fast-import", "--quiet", "--big-file-threshold=1m")
	cmd.Dir, cmd.Stdin = bare, r
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "fast-import: %s", out)
	up := &upstream{t: t}
	return up.git(bare, "rev-parse", "main~1"), up.git(bare, "rev-parse", "main")
}

// writeCompressible writes size bytes of repeated YAML, which deflate
// about 250 to 1.
func writeCompressible(w io.Writer, size int) {
	line := "- {name: item, value: \"0123456789abcdef\", enabled: true}\n"
	chunk := []byte(strings.Repeat(line, (64<<10)/len(line)+1)[:64<<10])
	for n := 0; n < size; n += len(chunk) {
		_, _ = w.Write(chunk[:min(len(chunk), size-n)])
	}
}

// fetchInChild runs one fetch into a fresh cache in a child process (this
// test binary again) and returns what it measured.
func fetchInChild(t *testing.T, job fetchJob) fetchFigures {
	t.Helper()
	job.CacheDir, job.Out = t.TempDir(), filepath.Join(t.TempDir(), "figures.json")
	b, err := json.Marshal(job)
	require.NoError(t, err)
	cmd := exec.Command(os.Args[0], "-test.run=^TestFetchMemoryIsBounded$", "-test.count=1")
	cmd.Env = append(os.Environ(), fetchChild+"="+string(b))
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "child: %s", out)
	raw, err := os.ReadFile(job.Out)
	require.NoError(t, err, "child: %s", out)
	var got fetchFigures
	require.NoError(t, json.Unmarshal(raw, &got))
	return got
}

func runFetchChild(t *testing.T, raw string) {
	var job fetchJob
	require.NoError(t, json.Unmarshal([]byte(raw), &job))
	src, err := gitsource.New(gitsource.Options{URL: job.URL, CacheDir: job.CacheDir})
	require.NoError(t, err)
	head, err := src.Sync(context.Background())
	require.NoError(t, err)
	require.Equal(t, job.Want, head)
	got := fetchFigures{FetchRSS: maxRSS(t)}
	if job.Old != "" {
		isAnc, err := src.IsAncestor(job.Old, head)
		require.NoError(t, err)
		require.True(t, isAnc)
		tree, err := src.Tree(job.Old)
		require.NoError(t, err)
		st, err := fs.Stat(tree, "team/dump.yaml")
		require.NoError(t, err)
		got.Size = st.Size()
		_, err = fs.ReadFile(tree, "team/dump.yaml")
		got.ReadErrs = append(got.ReadErrs, errText(err, gitsource.ErrTooLarge))
		f, err := tree.Open("team/dump.yaml")
		require.NoError(t, err)
		_, err = f.Read(make([]byte, 512))
		require.NoError(t, f.Close())
		got.ReadErrs = append(got.ReadErrs, errText(err, gitsource.ErrTooLarge))
		_, err = tree.Open("team/link.yaml")
		got.ReadErrs = append(got.ReadErrs, errText(err, fs.ErrInvalid))
		got.ReadRSS = maxRSS(t)
	}
	b, err := json.Marshal(got)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(job.Out, b, 0o600))
}

// errText is the text of err, marked when it is not the error wanted.
func errText(err, want error) string {
	if !errors.Is(err, want) {
		return fmt.Sprintf("not %v: %v", want, err)
	}
	return err.Error()
}

// maxRSS is this process's peak resident set so far, in bytes.
func maxRSS(t *testing.T) int64 {
	var ru syscall.Rusage
	require.NoError(t, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return ru.Maxrss << 10 // KiB on Linux
}
