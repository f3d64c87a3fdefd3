package gitsource_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/sync/gitsource"
	"github.com/syncgate/syncgate/testing/gitserver"
)

// A fetch that receives more than MaxFetch, counted from its start, is
// refused: the head stays, no partial pack stays in the cache, and with
// the limit raised the next fetch brings the commit.
func TestFetchRefusesMoreThanMaxFetch(t *testing.T) {
	s := gitserver.StartT(t, gitserver.Options{})
	repo := s.CreateRepoT(t, "huge")
	require.NoError(t, repo.Write(map[string]string{"team/app.yaml": "kind: ConfigMap\n"}))
	small, err := repo.Commit("small")
	require.NoError(t, err)

	const limit = 1 << 20
	cache := t.TempDir()
	src := newSource(t, gitsource.Options{URL: s.HTTPURL("huge"), CacheDir: cache, MaxFetch: limit})
	syncTo(t, src, small) // counted from each fetch's start: the first counts for nothing later
	packs := packFiles(t, cache)

	noise := make([]byte, 3<<20) // incompressible: the pack is as large
	_, err = rand.Read(noise)
	require.NoError(t, err)
	require.NoError(t, repo.Write(map[string]string{"team/noise.txt": base64.StdEncoding.EncodeToString(noise)}))
	huge, err := repo.Commit("huge")
	require.NoError(t, err)

	head, err := src.Sync(context.Background())
	require.ErrorContains(t, err, "the remote sent more than 1048576 bytes in one fetch; refusing it")
	require.Equal(t, small, head)
	require.Equal(t, small, src.Head())
	require.Equal(t, packs, packFiles(t, cache), "a partial pack stayed in the cache")

	src = newSource(t, gitsource.Options{URL: s.HTTPURL("huge"), CacheDir: cache, MaxFetch: 16 << 20})
	syncTo(t, src, huge)
}

// packFiles lists the files under the clone's objects/pack directories.
func packFiles(t *testing.T, cache string) []string {
	t.Helper()
	var names []string
	require.NoError(t, filepath.WalkDir(cache, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(filepath.ToSlash(p), "/objects/pack/") {
			names = append(names, filepath.Base(p))
		}
		return err
	}))
	return names
}
