package render_test

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/syncgate/syncgate/sync/render"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// scoper knows the built-in kinds these tests use, as discovery would, and
// answers like a RESTMapper for the others.
type scoper map[string]bool

func (s scoper) IsNamespaced(gvk schema.GroupVersionKind) (bool, error) {
	ns, ok := s[gvk.Kind]
	if !ok {
		return false, &meta.NoKindMatchError{GroupKind: gvk.GroupKind(), SearchedVersions: []string{gvk.Version}}
	}
	return ns, nil
}

var kinds = scoper{"Deployment": true, "Service": true, "ConfigMap": true, "Secret": true, "HorizontalPodAutoscaler": true,
	"Namespace": false, "ClusterRole": false, "CustomResourceDefinition": false}

func newRenderer(t testing.TB, mod func(*render.Options)) *render.Renderer {
	t.Helper()
	self, err := os.Executable()
	require.NoError(t, err)
	// This test binary is the build program (TestMain).
	opts := render.Options{Cluster: "prod", Scoper: kinds, BuildProgram: self}
	if mod != nil {
		mod(&opts)
	}
	r, err := render.New(opts)
	require.NoError(t, err)
	return r
}

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

const deploy = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: registry.example.com/team/web:latest
      - name: sidecar
        image: registry.example.com/proxy:1
`

func cm(name, extra string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s%s}\n", name, extra)
}

type renderCase struct {
	name string
	tree fs.FS
	mod  func(*render.Options)
	is   error // the refusal expected, nil for success
}

// Each case's result is testdata/<name>.golden: the objects as a YAML
// stream, or the error's text.
func TestRender(t *testing.T) {
	cases := []renderCase{
		{name: "plain", tree: fstest.MapFS{
			"team/deploy.yaml": file(deploy),
			"team/svc.yml": file("# the service\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports: [{port: 80}]\n---\n---\n" +
				cm("extra", ", namespace: team") + "---\n# only a comment\n"),
			"team/notes.txt":        file("ignored"),
			"team/sub/ignored.yaml": file(cm("not-read", "")),
		}},
		{name: "overlay", tree: fstest.MapFS{
			"team/cm.yaml":      file(cm("settings", "") + "data: {level: shared}\n---\n" + cm("shared-only", "")),
			"team/deploy.yaml":  file(deploy),
			"prod/team/cm.yaml": file(cm("settings", "") + "data: {level: prod}\n---\n" + cm("prod-only", "")),
			"other/team/x.yaml": file(cm("not-this-cluster", "")),
		}},
		{name: "cluster-only", tree: fstest.MapFS{"prod/team/cm.yaml": file(cm("only", ""))}},
		{name: "empty-directory", tree: fstest.MapFS{"team/README.md": file("nothing yet")}},
		{name: "list", tree: fstest.MapFS{
			"team/list.yaml": file("apiVersion: v1\nkind: List\nitems:\n- " + strings.ReplaceAll(strings.TrimSpace(cm("a", "")), "\n", "\n  ") +
				"\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: b}\n  data: {one: \"1\", two: 2}\n"),
		}},
		{name: "kustomize", tree: fstest.MapFS{
			"base/kustomization.yaml":  file("resources: [deploy.yaml]\nlabels: [{pairs: {tier: web}, includeSelectors: true}]\n"),
			"base/deploy.yaml":         file(deploy),
			"base/unused.yaml":         file("not: [valid"),
			"team/kustomization.yaml":  file("resources: [../base]\nnamePrefix: team-\nconfigMapGenerator:\n- name: env\n  literals: [MODE=prod]\n  files: [settings.properties]\n"),
			"team/settings.properties": file("a=b\n"),
			"team/ignored.yaml":        file(cm("not-in-the-kustomization", "")),
		}},
		{name: "kustomize-cluster-overlay", tree: fstest.MapFS{
			"base/web/kustomization.yaml": file("resources: [deploy.yaml]\n"),
			"base/web/deploy.yaml":        file(deploy),
			"team/cm.yaml":                file(cm("shared", "")),
			"prod/team/Kustomization": file("resources: [../../base/web]\nimages: [{name: registry.example.com/team/web, newTag: \"9\"}]\n" +
				"patches:\n- path: replicas.yaml\n"),
			"prod/team/replicas.yaml": file("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 5}\n"),
		}},
		{name: "image-pin", tree: fstest.MapFS{
			"team/deploy.yaml":         file(deploy),
			"team/images_path":         file("registry.example.com/shared\n"),
			"prod/team/images_path":    file("  registry.example.com:5000/team/  \n"),
			"prod/team/web.deployment": file("1.4.2\n"),
		}},
		{name: "image-pin-inherited-path", tree: fstest.MapFS{
			"team/deploy.yaml":         file(deploy),
			"team/images_path":         file("registry.example.com/team"),
			"prod/team/web.deployment": file("sha256:" + strings.Repeat("ab", 32)),
		}},
		{name: "image-pin-kustomize", tree: fstest.MapFS{
			"team/kustomization.yaml": file("resources: [deploy.yaml]\n"),
			"team/deploy.yaml":        file(deploy),
			"team/images_path":        file("registry.example.com/team"),
			"team/web.deployment":     file("2.0.0"),
		}},
		{name: "crd-defined-kind", mod: allowClusterScoped, tree: fstest.MapFS{
			"team/crd.yaml": file("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\n" +
				"spec: {group: example.com, scope: Namespaced, names: {kind: Widget, plural: widgets}}\n"),
			"team/widget.yaml": file("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n"),
		}},
		{name: "allowances", mod: func(o *render.Options) {
			o.AllowNamespaces = []string{"shared"}
			o.AllowClusterScoped = true
		}, tree: fstest.MapFS{
			"team/a.yaml": file(cm("a", ", namespace: shared") + "---\n" +
				"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: reader, namespace: team}\n"),
		}},

		// Refusals.
		{name: "no-config", is: render.ErrNoConfig, tree: fstest.MapFS{"other/x.yaml": file(cm("x", ""))}},
		{name: "namespace-is-a-file", is: render.ErrInvalid, tree: fstest.MapFS{"team": file("x")}},
		{name: "invalid-yaml", is: render.ErrInvalid, tree: fstest.MapFS{"team/bad.yaml": file(cm("ok", "") + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: [\n")}},
		{name: "not-a-mapping", is: render.ErrInvalid, tree: fstest.MapFS{"team/bad.yaml": file("- a\n- b\n")}},
		{name: "missing-kind", is: render.ErrInvalid, tree: fstest.MapFS{"team/a.yaml": file("apiVersion: v1\nmetadata: {name: a}\n")}},
		{name: "missing-api-version", is: render.ErrInvalid, tree: fstest.MapFS{"team/a.yaml": file("kind: ConfigMap\nmetadata: {name: a}\n")}},
		{name: "missing-name", is: render.ErrInvalid, tree: fstest.MapFS{"team/a.yaml": file("apiVersion: v1\nkind: ConfigMap\nmetadata: {labels: {a: b}}\n")}},
		{name: "list-item-not-a-mapping", is: render.ErrInvalid, tree: fstest.MapFS{"team/a.yaml": file("apiVersion: v1\nkind: List\nitems: [x]\n")}},
		{name: "foreign-namespace", is: render.ErrForeignNS, tree: fstest.MapFS{"team/deploy.yaml": file(strings.Replace(deploy, "name: web\n", "name: web\n  namespace: other\n", 1))}},
		{name: "cluster-scoped", is: render.ErrClusterScoped, tree: fstest.MapFS{"team/a.yaml": file("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: admin2}\n")}},
		{name: "crd-not-allowed", is: render.ErrClusterScoped, tree: fstest.MapFS{
			"team/crd.yaml": file("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\n" +
				"spec: {group: example.com, scope: Namespaced, names: {kind: Widget, plural: widgets}}\n"),
		}},
		{name: "unknown-kind", is: render.ErrUnknownKind, tree: fstest.MapFS{"team/a.yaml": file("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n")}},
		{name: "remote-base", is: render.ErrRemoteBase, tree: fstest.MapFS{"team/kustomization.yaml": file("resources: [\"https://github.com/example/base?ref=v1\"]\n")}},
		{name: "remote-base-shorthand", is: render.ErrRemoteBase, tree: fstest.MapFS{"team/kustomization.yaml": file("resources: [github.com/example/base//deploy]\n")}},
		{name: "remote-base-scp", is: render.ErrRemoteBase, tree: fstest.MapFS{
			"team/kustomization.yaml": file("resources: [../base]\n"),
			"base/kustomization.yaml": file("resources: [git@git.example.com:ops/base.git]\n"),
		}},
		{name: "remote-patch", is: render.ErrRemoteBase, tree: fstest.MapFS{
			"team/kustomization.yaml": file("resources: [deploy.yaml]\npatches: [{path: \"http://example.com/p.yaml\"}]\n"),
			"team/deploy.yaml":        file(deploy),
		}},
		{name: "helm-chart", is: render.ErrRemoteBase, tree: fstest.MapFS{"team/kustomization.yaml": file("helmCharts: [{name: redis, repo: https://charts.example.com}]\n")}},
		{name: "kustomize-missing-resource", is: render.ErrBuild, tree: fstest.MapFS{"team/kustomization.yaml": file("resources: [nope.yaml]\n")}},
		{name: "kustomize-escapes-repo", is: render.ErrBuild, tree: fstest.MapFS{"team/kustomization.yaml": file("resources: [../../../../etc/kubernetes]\n")}},
		{name: "too-big", is: render.ErrTooLarge, mod: func(o *render.Options) { o.Limits.FileBytes = 100 },
			tree: fstest.MapFS{"team/a.yaml": file(cm("a", "") + "data: {x: " + strings.Repeat("y", 200) + "}\n")}},
		{name: "too-big-for-kustomize", is: render.ErrTooLarge, mod: func(o *render.Options) { o.Limits.FileBytes = 100 }, tree: fstest.MapFS{
			"team/kustomization.yaml": file("resources: [a.yaml]\n"),
			"team/a.yaml":             file(cm("a", "") + "data: {x: " + strings.Repeat("y", 200) + "}\n"),
			"docs/huge.bin":           file(strings.Repeat("z", 1000)), // never read
		}},
		{name: "too-many", is: render.ErrTooMany, mod: func(o *render.Options) { o.Limits.Objects = 2 },
			tree: fstest.MapFS{"team/a.yaml": file(cm("a", "") + "---\n" + cm("b", "") + "---\n" + cm("c", ""))}},
		{name: "too-many-merged", is: render.ErrTooMany, mod: func(o *render.Options) { o.Limits.Objects = 2 },
			tree: fstest.MapFS{"team/a.yaml": file(cm("a", "") + "---\n" + cm("b", "")), "prod/team/c.yaml": file(cm("c", ""))}},
		{name: "too-many-kustomize", is: render.ErrTooMany, mod: func(o *render.Options) { o.Limits.Objects = 2 }, tree: fstest.MapFS{
			"team/kustomization.yaml": file("resources: [a.yaml]\n"),
			"team/a.yaml":             file(cm("a", "") + "---\n" + cm("b", "") + "---\n" + cm("c", "")),
		}},
		{name: "duplicate", is: render.ErrDuplicate, tree: fstest.MapFS{"team/a.yaml": file(cm("a", "")), "team/b.yaml": file(cm("a", ", namespace: team"))}},
		{name: "duplicate-in-file", is: render.ErrDuplicate, tree: fstest.MapFS{"team/a.yaml": file(cm("a", "") + "---\n" + cm("a", ""))}},
		{name: "pin-without-deployment", is: render.ErrPinTarget, tree: fstest.MapFS{"team/a.yaml": file(cm("a", "")),
			"team/images_path": file("r.example.com"), "team/api.deployment": file("1.0")}},
		{name: "pin-without-container", is: render.ErrPinTarget, tree: fstest.MapFS{
			"team/d.yaml":      file(strings.ReplaceAll(deploy, "name: web\n        image", "name: app\n        image")),
			"team/images_path": file("r.example.com"), "team/web.deployment": file("1.0")}},
		{name: "pin-bad-tag", is: render.ErrInvalid, tree: fstest.MapFS{"team/d.yaml": file(deploy),
			"team/images_path": file("r.example.com"), "team/web.deployment": file("1.0; rm -rf /")}},
		{name: "pin-without-images-path", is: render.ErrInvalid, tree: fstest.MapFS{"team/d.yaml": file(deploy), "team/web.deployment": file("1.0")}},
		{name: "pin-bad-images-path", is: render.ErrInvalid, tree: fstest.MapFS{"team/d.yaml": file(deploy),
			"team/images_path": file("https://registry.example.com/team"), "team/web.deployment": file("1.0")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { checkGolden(t, tc) })
	}
}

func allowClusterScoped(o *render.Options) { o.AllowClusterScoped = true }

func checkGolden(t *testing.T, tc renderCase) {
	t.Helper()
	objs, err := newRenderer(t, tc.mod).Render(tc.tree, "team")
	var got string
	if tc.is != nil {
		require.ErrorIs(t, err, tc.is)
		var re *render.Error
		require.ErrorAs(t, err, &re, "a refusal is a *render.Error")
		got = "error: " + err.Error() + "\n"
	} else {
		require.NoError(t, err)
		got = stream(t, objs)
	}
	golden := filepath.Join("testdata", tc.name+".golden")
	if *update {
		require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err, "go test ./sync/render -update writes it")
	require.Equal(t, string(want), got)
}

func stream(t testing.TB, objs []*unstructured.Unstructured) string {
	var b strings.Builder
	for _, o := range objs {
		y, err := yaml.Marshal(o.Object)
		require.NoError(t, err)
		b.WriteString("---\n")
		b.Write(y)
	}
	return b.String()
}

func TestScoperTroubleIsNotARefusal(t *testing.T) {
	down := scoperFunc(func(schema.GroupVersionKind) (bool, error) {
		return false, errors.New("the server is currently unable to handle the request")
	})
	r, err := render.New(render.Options{Cluster: "prod", Scoper: down})
	require.NoError(t, err)
	_, err = r.Render(fstest.MapFS{"team/a.yaml": file(cm("a", ""))}, "team")
	require.ErrorContains(t, err, "unable to handle the request")
	var re *render.Error
	require.False(t, errors.As(err, &re), "a retry may pass: not the commit's fault")
}

// failingFS is a tree whose store fails to read one file, as a packfile
// that cannot be opened would.
type failingFS struct {
	fs.FS
	bad string
}

var errStore = errors.New("packfile: too many open files")

func (f failingFS) Open(name string) (fs.File, error) {
	if name == f.bad {
		return nil, &fs.PathError{Op: "open", Path: name, Err: errStore}
	}
	return f.FS.Open(name)
}

func TestStoreTroubleIsNotARefusal(t *testing.T) {
	tree := failingFS{FS: fstest.MapFS{"team/a.yaml": file(cm("a", "")), "team/b.yaml": file(cm("b", ""))}, bad: "team/b.yaml"}
	_, err := newRenderer(t, nil).Render(tree, "team")
	require.ErrorIs(t, err, errStore)
	require.ErrorContains(t, err, "team/b.yaml")
	var re *render.Error
	require.False(t, errors.As(err, &re), "a retry may pass: not the commit's fault")

	// A file the tree does not have is the commit's fault.
	tree.bad = ""
	tree.FS = fstest.MapFS{"team/kustomization.yaml": file("resources: [missing.yaml]\n")}
	_, err = newRenderer(t, nil).Render(tree, "team")
	require.True(t, errors.As(err, &re), "%v", err)
}

type scoperFunc func(schema.GroupVersionKind) (bool, error)

func (f scoperFunc) IsNamespaced(gvk schema.GroupVersionKind) (bool, error) { return f(gvk) }

func TestScoperAskedOncePerKind(t *testing.T) {
	calls := 0
	counting := scoperFunc(func(gvk schema.GroupVersionKind) (bool, error) {
		calls++
		return kinds.IsNamespaced(gvk)
	})
	tree := fstest.MapFS{}
	for i := 0; i < 50; i++ {
		tree[fmt.Sprintf("team/%02d.yaml", i)] = file(cm(fmt.Sprintf("c%d", i), ""))
	}
	r, err := render.New(render.Options{Cluster: "prod", Scoper: counting})
	require.NoError(t, err)
	objs, err := r.Render(tree, "team")
	require.NoError(t, err)
	require.Len(t, objs, 50)
	require.Equal(t, 1, calls)
}

func TestNewAndArguments(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts render.Options
	}{
		{"no cluster", render.Options{Scoper: kinds}},
		{"cluster with a slash", render.Options{Cluster: "a/b", Scoper: kinds}},
		{"cluster dot-dot", render.Options{Cluster: "..", Scoper: kinds}},
		{"no scoper", render.Options{Cluster: "prod"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := render.New(tc.opts)
			require.Error(t, err)
		})
	}
	r := newRenderer(t, nil)
	for _, ns := range []string{"", "../etc", "Team", "a/b"} {
		_, err := r.Render(fstest.MapFS{}, ns)
		require.Error(t, err, "namespace %q", ns)
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	tree := fstest.MapFS{
		"team/b.yaml":                  file(cm("b", "") + "---\n" + cm("a", "")),
		"team/a.yaml":                  file(deploy),
		"prod/team/kustomization.yaml": file("resources: [x.yaml]\n"),
		"prod/team/x.yaml":             file(cm("x", "")),
	}
	r := newRenderer(t, nil)
	first, err := r.Render(tree, "team")
	require.NoError(t, err)
	for i := 0; i < 5; i++ {
		again, err := r.Render(tree, "team")
		require.NoError(t, err)
		require.Equal(t, stream(t, first), stream(t, again))
	}
	var names []string
	for _, o := range first {
		names = append(names, o.GetName())
	}
	require.Equal(t, []string{"web", "b", "a", "x"}, names, "file order, then document order, then the cluster's directory")
}

func thousandObjects() fstest.MapFS {
	tree := fstest.MapFS{}
	for i := 0; i < 100; i++ {
		var b strings.Builder
		for j := 0; j < 10; j++ {
			n := i*10 + j
			fmt.Fprintf(&b, "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%04d\n  labels: {app: bench, n: \"%d\"}\ndata:\n  key: value-%d\n  other: |\n    some text\n    over two lines\n", n, n, n)
		}
		tree[fmt.Sprintf("team/cm-%03d.yaml", i)] = file(b.String())
	}
	return tree
}

func TestThousandObjects(t *testing.T) {
	objs, err := newRenderer(t, nil).Render(thousandObjects(), "team")
	require.NoError(t, err)
	require.Len(t, objs, 1000)
	require.Equal(t, "cm-0999", objs[999].GetName())
}

func BenchmarkRender1000Plain(b *testing.B) {
	tree := thousandObjects()
	r := newRenderer(b, nil)
	for b.Loop() {
		if _, err := r.Render(tree, "team"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRender1000Kustomize(b *testing.B) {
	tree := thousandObjects()
	var res []string
	for name := range tree {
		res = append(res, strings.TrimPrefix(name, "team/"))
	}
	tree["team/kustomization.yaml"] = file("resources: [" + strings.Join(res, ", ") + "]\nlabels: [{pairs: {team: a}}]\n")
	r := newRenderer(b, nil)
	for b.Loop() {
		if _, err := r.Render(tree, "team"); err != nil {
			b.Fatal(err)
		}
	}
}
