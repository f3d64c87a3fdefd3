package render_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"math/rand/v2"
	"path"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/syncgate/syncgate/sync/inputs"
	"github.com/syncgate/syncgate/sync/render"
	"github.com/syncgate/syncgate/testing/gittree"
)

// blobTree is a tree that names its files by content, as git does, and
// counts the files opened.
type blobTree struct {
	gittree.Tree
	opened *atomic.Int64
}

func newBlobTree(files map[string]string) blobTree {
	return blobTree{Tree: gittree.New(files), opened: &atomic.Int64{}}
}

func (t blobTree) Open(name string) (fs.File, error) {
	if st, err := fs.Stat(t.MapFS, name); err == nil && !st.IsDir() {
		t.opened.Add(1)
	}
	return t.MapFS.Open(name)
}

func TestOnlyChangedFilesAreReadAgain(t *testing.T) {
	files := map[string]string{}
	for i := range 1000 {
		files[fmt.Sprintf("team/obj-%04d.yaml", i)] = cm(fmt.Sprintf("cm-%d", i), "")
	}
	r := newRenderer(t, nil)
	first := newBlobTree(files)
	_, err := r.Render(first, "team")
	require.NoError(t, err)
	require.EqualValues(t, 1000, first.opened.Load())

	files["team/obj-0007.yaml"] = cm("cm-7", ", labels: {changed: now}")
	next := newBlobTree(files)
	objs, err := r.Render(next, "team")
	require.NoError(t, err)
	require.EqualValues(t, 1, next.opened.Load(), "only the changed file is read")
	require.Equal(t, "now", objs[7].GetLabels()["changed"])
	require.Equal(t, "team", objs[8].GetNamespace())

	other := newBlobTree(map[string]string{"other/obj-0000.yaml": files["team/obj-0000.yaml"]})
	_, err = r.Render(other, "other")
	require.NoError(t, err)
	require.EqualValues(t, 1, other.opened.Load(), "another namespace's files are not taken for this one's")
}

// TestCachedRendersAreFullRenders renders random trees, each a few random
// edits of the one before, with one Renderer that keeps what it parsed
// and with a new Renderer each time: the objects, or the refusals, are
// the same, and so are their keys; an object given a key once is the same
// object whenever it is given that key again.
func TestCachedRendersAreFullRenders(t *testing.T) {
	tight := func(o *render.Options) { o.Limits = render.Limits{Objects: 14, ReadBytes: 3000} }
	for _, tc := range []struct {
		name string
		mod  func(*render.Options)
	}{{"default limits", nil}, {"tight limits", tight}} {
		t.Run(tc.name, func(t *testing.T) {
			rnd := rand.New(rand.NewPCG(16, 1))
			cached := newRenderer(t, tc.mod)
			files := map[string]string{}
			keyed := map[string]string{}
			var hits, refusals, again int
			for step := range 400 {
				edit(rnd, files)
				files := mistake(rnd, files)
				tree := newBlobTree(files)
				var from fs.FS = tree
				if step%2 == 1 {
					rec, err := inputs.Record(tree)
					require.NoError(t, err)
					from = rec
				}
				got, gotKeys, gotErr := cached.RenderKeyed(context.Background(), from, "team")
				read := tree.opened.Load()
				want, wantKeys, wantErr := newRenderer(t, tc.mod).RenderKeyed(context.Background(), newBlobTree(files), "team")
				if wantErr != nil {
					refusals++
					require.Error(t, gotErr, "step %d", step)
					require.Equal(t, wantErr.Error(), gotErr.Error(), "step %d", step)
					continue
				}
				require.NoError(t, gotErr, "step %d", step)
				require.Equal(t, want, got, "step %d", step)
				require.Equal(t, wantKeys, gotKeys, "step %d", step)
				if read < int64(yamlFiles(files)) {
					hits++
				}
				for i, k := range gotKeys {
					require.NotEmpty(t, k, "step %d: %s", step, got[i].GetName())
					j, err := json.Marshal(got[i].Object)
					require.NoError(t, err)
					if before, ok := keyed[k]; ok {
						again++
						require.Equal(t, before, string(j), "step %d: one key, two objects", step)
					}
					keyed[k] = string(j)
				}
			}
			t.Logf("%d renders took files from the cache, %d refused, %d objects keyed as before", hits, refusals, again)
			require.Greater(t, hits, 50, "renders that took files from the cache")
			require.Greater(t, refusals, 20, "renders refused")
			require.Greater(t, again, 500, "objects keyed as before")
		})
	}
}

// sealer decrypts every encrypted Secret to the same data.
type sealer struct{}

func (sealer) Decrypt(_ context.Context, u *unstructured.Unstructured, _ []byte, _ *render.KeyBudget) (bool, error) {
	if _, ok := u.Object["sops"]; !ok {
		return false, nil
	}
	delete(u.Object, "sops")
	return true, unstructured.SetNestedField(u.Object, "plain", "stringData", "password")
}

func TestObjectsARenderChangesHaveNoKeyWhenItCannotTell(t *testing.T) {
	files := map[string]string{
		"team/a.yaml":            cm("a", "") + "---\napiVersion: v1\nkind: Secret\nmetadata: {name: s}\nsops: {mac: x}\n",
		"team/web.yaml":          deploy,
		"team/images_path":       "registry.example.com/team",
		"team/web.deployment":    "1.0",
		"lib/kustomization.yaml": "resources: [cm.yaml]\n",
	}
	r := newRenderer(t, func(o *render.Options) { o.Decrypter = sealer{} })
	objs, keys, err := r.RenderKeyed(context.Background(), newBlobTree(files), "team")
	require.NoError(t, err)
	require.Len(t, keys, 3)
	require.NotEmpty(t, keys[0], "a ConfigMap as its blob says")
	require.Equal(t, "plain", objs[1].Object["stringData"].(map[string]any)["password"])
	require.Empty(t, keys[1], "a decrypted Secret")
	files["team/web.deployment"] = "2.0"
	_, next, err := r.RenderKeyed(context.Background(), newBlobTree(files), "team")
	require.NoError(t, err)
	require.Equal(t, keys[0], next[0])
	require.NotEqual(t, keys[2], next[2], "a Deployment pinned to another image")

	k := newBlobTree(map[string]string{"team/kustomization.yaml": "resources: [cm.yaml]\n", "team/cm.yaml": cm("a", "")})
	_, keys, err = r.RenderKeyed(context.Background(), k, "team")
	require.NoError(t, err)
	require.Equal(t, []string{""}, keys, "a kustomize build's objects")
	_, keys, err = r.RenderKeyed(context.Background(), fstest.MapFS{"team/a.yaml": file(cm("a", ""))}, "team")
	require.NoError(t, err)
	require.Equal(t, []string{""}, keys, "a tree that cannot name its blobs")
}

func yamlFiles(files map[string]string) int {
	n := 0
	for name := range files {
		if ext := path.Ext(name); ext == ".yaml" || ext == ".yml" {
			n++
		}
	}
	return n
}

// edit changes one to three files of the tree: new content, removed, or a
// copy of another file (the same blob at another path). The Deployment
// the pins name is in team/web.yaml.
func edit(rnd *rand.Rand, files map[string]string) {
	yamls := []string{"team/a.yaml", "team/b.yaml", "team/c.yml", "team/d.yaml", "team/e.yaml", "prod/team/a.yaml", "prod/team/z.yaml"}
	others := []string{"team/notes.txt", "team/web.yaml", "team/images_path", "team/web.deployment", "prod/team/web.deployment"}
	if len(files) == 0 {
		files["team/web.yaml"] = deploy
		files["team/images_path"] = "registry.example.com/team"
	}
	for range 1 + rnd.IntN(3) {
		if rnd.IntN(4) == 0 {
			name := others[rnd.IntN(len(others))]
			switch n := rnd.IntN(10); {
			case n < 3 && name != "team/images_path":
				delete(files, name)
			case name == "team/web.yaml":
				files[name] = strings.Replace(deploy, "replicas: 2", fmt.Sprint("replicas: ", rnd.IntN(3)), 1)
			case name == "team/images_path":
				files[name] = []string{"registry.example.com/team", "r.example.com", "r.example.com/x"}[rnd.IntN(3)]
			default:
				files[name] = []string{"1.2", "2.0", "1.3"}[rnd.IntN(3)]
			}
			continue
		}
		name := yamls[rnd.IntN(len(yamls))]
		switch n := rnd.IntN(10); {
		case n < 2:
			delete(files, name)
		case n < 3:
			files[name] = files[yamls[rnd.IntN(len(yamls))]]
		default:
			files[name] = randomFile(rnd)
		}
	}
}

// mistake is sometimes files with a mistake in a pin, made for one commit.
func mistake(rnd *rand.Rand, files map[string]string) map[string]string {
	if rnd.IntN(6) > 0 {
		return files
	}
	out := maps.Clone(files)
	switch rnd.IntN(3) {
	case 0:
		out["team/images_path"] = "not a path!"
	case 1:
		out["team/web.deployment"] = "bad tag!"
	default:
		out["prod/team/web.deployment"] = "1.0"
		delete(out, "team/images_path")
	}
	return out
}

// randomFile is one to three documents: objects of the namespace, an
// empty document, a List, aliases, numbers, sometimes something refused.
func randomFile(rnd *rand.Rand) string {
	docs := make([]string, 1+rnd.IntN(3))
	for i := range docs {
		name := fmt.Sprint("o", rnd.IntN(300))
		switch rnd.IntN(20) {
		case 0:
			docs[i] = "# nothing here\n"
		case 1:
			docs[i] = fmt.Sprintf("apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: l-%s}}\n- {apiVersion: v1, kind: Service, metadata: {name: l-%s}, spec: {ports: [{port: 80}]}}\n", name, name)
		case 2:
			docs[i] = fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: al-%s}\ndata: {x: &v hello, y: *v}\n", name)
		case 3:
			docs[i] = strings.ReplaceAll(deploy, "web", name)
		case 4:
			docs[i] = fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata: {name: %s, namespace: team}\nspec: {ports: [{port: %d}], x: 0.5}\n", name, 80+rnd.IntN(3))
		case 5:
			if rnd.IntN(4) > 0 {
				docs[i] = cm(name, "")
				break
			}
			docs[i] = []string{"a: [\n", "- just\n- a list\n", cm("f", ", namespace: elsewhere"),
				"apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n"}[rnd.IntN(4)]
		default:
			docs[i] = cm(name, fmt.Sprintf(", labels: {v: %q}", fmt.Sprint(rnd.IntN(4))))
		}
	}
	return strings.Join(docs, "---\n")
}

func TestRendersOfOneFileShareNothing(t *testing.T) {
	r := newRenderer(t, nil)
	tree := newBlobTree(map[string]string{"team/a.yaml": cm("a", ", labels: {x: kept}")})
	first, err := r.Render(tree, "team")
	require.NoError(t, err)
	require.NoError(t, unstructured.SetNestedField(first[0].Object, "changed", "metadata", "labels", "x"))
	again, err := r.Render(tree, "team")
	require.NoError(t, err)
	require.Equal(t, "kept", again[0].GetLabels()["x"], "an object returned is the caller's to change")
}
