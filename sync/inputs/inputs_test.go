package inputs_test

import (
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/sync/inputs"
	"github.com/syncgate/syncgate/testing/gittree"
)

// tree is a commit's files, named by content as git names them.
type tree = gittree.Tree

func files(kv ...string) tree {
	m := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return gittree.New(m)
}

// render reads as sync/render does: it looks at the namespace's two
// directories, lists them and reads each file, and follows a reference
// to ../base when a file names one.
func render(t *testing.T, fsys fs.FS) {
	for _, dir := range []string{"team", "prod/team"} {
		if _, err := fs.Stat(fsys, dir); err != nil {
			continue
		}
		entries, err := fs.ReadDir(fsys, dir)
		require.NoError(t, err)
		for _, e := range entries {
			b, err := fs.ReadFile(fsys, dir+"/"+e.Name())
			require.NoError(t, err)
			if ref, ok := strings.CutPrefix(string(b), "ref:"); ok {
				_, _ = fs.ReadFile(fsys, ref)
			}
		}
	}
}

func recorded(t *testing.T, fsys fs.FS) *inputs.Set {
	r, err := inputs.Record(fsys)
	require.NoError(t, err)
	render(t, r)
	s, err := r.Inputs()
	require.NoError(t, err)
	return s
}

func TestSameInputsAreToldFromChangedOnes(t *testing.T) {
	base := []string{"team/cm.yaml", "a", "team/web.yaml", "ref:base/x.yaml", "base/x.yaml", "x1", "other/y.yaml", "y1"}
	s := recorded(t, files(base...))
	require.Equal(t, 6, s.Len(), "team and prod/team looked at, team listed, three files read")

	with := func(kv ...string) tree {
		m := files(base...)
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				delete(m.MapFS, kv[i])
				continue
			}
			m.MapFS[kv[i]] = &fstest.MapFile{Data: []byte(kv[i+1])}
		}
		return m
	}
	for _, tc := range []struct {
		name string
		tree tree
		same bool
	}{
		{"nothing changed", with(), true},
		{"another namespace changed", with("other/y.yaml", "y2", "other/z.yaml", "z"), true},
		{"a new top-level directory", with("new/z.yaml", "z"), true},
		{"a file of the namespace changed", with("team/cm.yaml", "b"), false},
		{"a file added to the namespace", with("team/new.yaml", "n"), false},
		{"a file removed from the namespace", with("team/cm.yaml", ""), false},
		{"the cluster's directory appeared", with("prod/team/cm.yaml", "c"), false},
		{"a base the namespace reads changed", with("base/x.yaml", "x2"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			same, err := s.Same(tc.tree)
			require.NoError(t, err)
			require.Equal(t, tc.same, same)
		})
	}
}

func TestATreeThatCannotNameItsObjectsIsNotCompared(t *testing.T) {
	_, err := inputs.Record(fstest.MapFS{})
	require.ErrorIs(t, err, inputs.ErrNotComparable)
	s := recorded(t, files("team/cm.yaml", "a"))
	same, err := s.Same(fstest.MapFS{"team/cm.yaml": {Data: []byte("a")}})
	require.ErrorIs(t, err, inputs.ErrNotComparable)
	require.False(t, same)
}

// A directory counted is noted as listed: what a render counted
// (render's Entries) is the same only if the entries are.
func TestACountIsNotedAsAListing(t *testing.T) {
	r, err := inputs.Record(files("team/cm.yaml", "a", "team/x.txt", "b"))
	require.NoError(t, err)
	n, err := r.CountEntries("team")
	require.NoError(t, err)
	require.Equal(t, 2, n)
	s, err := r.Inputs()
	require.NoError(t, err)
	same, err := s.Same(files("team/cm.yaml", "changed", "team/x.txt", "b"))
	require.NoError(t, err)
	require.True(t, same, "a count is not a read of the files")
	same, err = s.Same(files("team/cm.yaml", "a", "team/x.txt", "b", "team/y.txt", "c"))
	require.NoError(t, err)
	require.False(t, same, "an entry added changes the count")
}
