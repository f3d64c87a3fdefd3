package gitsource

import (
	"context"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/storage"
	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/sync/gitsource/internal/packs"
)

// gatedStore holds the first read of tree's content until release is
// closed, saying on entered that it is held.
type gatedStore struct {
	storage.Storer
	tree             plumbing.Hash
	entered, release chan struct{}
	once             sync.Once
}

// Cost is the store's: the gate holds reads, not their costs.
func (g *gatedStore) Cost(h plumbing.Hash) (packs.Cost, error) {
	return g.Storer.(*store).Cost(h)
}

func (g *gatedStore) EncodedObject(t plumbing.ObjectType, h plumbing.Hash) (plumbing.EncodedObject, error) {
	o, err := g.Storer.EncodedObject(t, h)
	if err != nil || h != g.tree {
		return o, err
	}
	return gatedObject{o, g}, nil
}

type gatedObject struct {
	plumbing.EncodedObject
	g *gatedStore
}

func (o gatedObject) Reader() (io.ReadCloser, error) {
	r, err := o.EncodedObject.Reader()
	return gatedReader{r, o.g}, err
}

type gatedReader struct {
	io.ReadCloser
	g *gatedStore
}

func (r gatedReader) Read(b []byte) (int, error) {
	r.g.once.Do(func() {
		close(r.g.entered)
		<-r.g.release
	})
	return r.ReadCloser.Read(b)
}

// A directory being decoded holds up no other reader of the store: its
// content is decoded after the store lock is released.
func TestDecodingTreeBlocksNoOtherReader(t *testing.T) {
	work := t.TempDir()
	for name, content := range map[string]string{"team/a.yaml": "a: 1\n", "slow/b.yaml": "b: 1\n"} {
		p := filepath.Join(work, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	git := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
			"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "git %v: %s", args, out)
		return strings.TrimSpace(string(out))
	}
	git("init", "--quiet", "--initial-branch=main")
	git("add", "-A")
	git("commit", "--quiet", "-m", "two directories")
	sha := git("rev-parse", "HEAD")
	src, err := New(Options{URL: "file://" + work, CacheDir: t.TempDir()})
	require.NoError(t, err)
	_, err = src.Sync(context.Background())
	require.NoError(t, err)
	tree, err := src.Tree(sha)
	require.NoError(t, err)
	slow, err := tree.(*treeFS).resolve("slow")
	require.NoError(t, err)

	gate := &gatedStore{Storer: src.repo.Storer, tree: slow.hash, entered: make(chan struct{}), release: make(chan struct{})}
	src.repo.Storer = gate
	decoded := make(chan error, 1)
	go func() {
		_, err := tree.(*treeFS).CountEntries("slow")
		decoded <- err
	}()
	select {
	case <-gate.entered:
	case err := <-decoded:
		t.Fatalf("slow/ decoded without reading its content: %v", err)
	}
	read := make(chan error, 1)
	go func() {
		other, err := src.Tree(sha)
		if err == nil {
			_, err = fs.ReadFile(other, "team/a.yaml")
		}
		read <- err
	}()
	select {
	case err := <-read:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		close(gate.release)
		t.Fatal("a reader of team/ waited while slow/ was decoded")
	}
	close(gate.release)
	require.NoError(t, <-decoded)
}
