package render_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/syncgate/syncgate/sync/render"
)

var update = flag.Bool("update", false, "rewrite golden files")

// scoper knows the built-in kinds these tests use, as discovery would.
type scoper map[string]bool

func (s scoper) IsNamespaced(gvk schema.GroupVersionKind) (bool, error) {
	ns, ok := s[gvk.Kind]
	if !ok {
		return false, fmt.Errorf("no matches for kind %q in version %q", gvk.Kind, gvk.GroupVersion())
	}
	return ns, nil
}

var kinds = scoper{"Deployment": true, "Service": true, "ConfigMap": true, "HorizontalPodAutoscaler": true,
	"Namespace": false, "ClusterRole": false, "CustomResourceDefinition": false}

func newRenderer(t *testing.T, mod func(*render.Options)) *render.Renderer {
	t.Helper()
	opts := render.Options{Cluster: "prod", Scoper: kinds}
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
`

func TestRenderGolden(t *testing.T) {
	cases := map[string]fstest.MapFS{
		"plain": {
			"team/deploy.yaml": file(deploy),
			"team/svc.yaml": file("# the service\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports: [{port: 80}]\n---\n" +
				"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra, namespace: team}\ndata: {a: b}\n"),
			"team/notes.txt": file("ignored"),
		},
		"overlay": {
			"team/cm.yaml":      file("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {level: shared}\n"),
			"team/deploy.yaml":  file(deploy),
			"prod/team/cm.yaml": file("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {level: prod}\n"),
			"other/team/x.yaml": file("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: not-this-cluster}\n"),
		},
		"kustomize": {
			"base/kustomization.yaml": file("resources: [deploy.yaml]\nlabels: [{pairs: {tier: web}, includeSelectors: true}]\n"),
			"base/deploy.yaml":        file(deploy),
			"team/kustomization.yaml": file("resources: [../base]\nnamePrefix: prod-\nconfigMapGenerator:\n- name: env\n  literals: [MODE=prod]\n"),
		},
		"image-pin": {
			"team/deploy.yaml":         file(deploy),
			"prod/team/images_path":    file("registry.example.com/team\n"),
			"prod/team/web.deployment": file("1.4.2\n"),
		},
		"list": {
			"team/list.yaml": file("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: b}\n"),
		},
	}
	r := newRenderer(t, nil)
	for name, tree := range cases {
		t.Run(name, func(t *testing.T) {
			objs, err := r.Render(tree, "team")
			require.NoError(t, err)
			var b strings.Builder
			for _, o := range objs {
				y, err := yaml.Marshal(o.Object)
				require.NoError(t, err)
				b.WriteString("---\n")
				b.Write(y)
			}
			golden := filepath.Join("testdata", name+".golden.yaml")
			if *update {
				require.NoError(t, os.WriteFile(golden, []byte(b.String()), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test ./sync/render -update")
			require.Equal(t, string(want), b.String())
		})
	}
}

func TestRenderRefusals(t *testing.T) {
	cases := []struct {
		name string
		tree fstest.MapFS
		mod  func(*render.Options)
		is   error
		msg  string
	}{
		{"no directory", fstest.MapFS{"other/x.yaml": file("")}, nil, render.ErrNoConfig, "neither team/ nor prod/team/"},
		{"invalid yaml", fstest.MapFS{"team/bad.yaml": file("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [\n")}, nil,
			render.ErrInvalid, "team/bad.yaml: invalid YAML in document 1"},
		{"missing name", fstest.MapFS{"team/a.yaml": file("apiVersion: v1\nkind: ConfigMap\n")}, nil, render.ErrInvalid, "metadata.name is missing"},
		{"foreign namespace", fstest.MapFS{"team/a.yaml": file("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: other}\n")}, nil,
			render.ErrForeignNS, `team/a.yaml: ConfigMap "a": namespace is not managed: "other"`},
		{"cluster scoped", fstest.MapFS{"team/a.yaml": file("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: admin2}\n")}, nil,
			render.ErrClusterScoped, `team/a.yaml: ClusterRole "admin2"`},
		{"unknown kind", fstest.MapFS{"team/a.yaml": file("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n")}, nil,
			render.ErrUnknownKind, `Widget "w"`},
		{"remote base", fstest.MapFS{"team/kustomization.yaml": file("resources: [\"https://github.com/example/base?ref=v1\"]\n")}, nil,
			render.ErrRemoteBase, "team/kustomization.yaml"},
		{"too big", fstest.MapFS{"team/a.yaml": file("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {x: " + strings.Repeat("y", 200) + "}\n")},
			func(o *render.Options) { o.MaxFileBytes = 100 }, render.ErrTooLarge, "team/a.yaml"},
		{"too many", fstest.MapFS{"team/a.yaml": file(strings.Repeat("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n", 1) +
			"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")},
			func(o *render.Options) { o.MaxObjects = 2 }, render.ErrTooMany, "team/a.yaml"},
		{"duplicate", fstest.MapFS{"team/a.yaml": file("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"),
			"team/b.yaml": file("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")}, nil, render.ErrDuplicate, "team/b.yaml: ConfigMap \"a\": duplicate object: also in team/a.yaml"},
		{"pin without deployment", fstest.MapFS{"team/a.yaml": file("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"),
			"team/images_path": file("r.example.com"), "team/api.deployment": file("1.0")}, nil, render.ErrPinTarget, "team/api.deployment"},
		{"bad tag", fstest.MapFS{"team/d.yaml": file(deploy), "team/images_path": file("r.example.com"), "team/web.deployment": file("1.0 rm -rf")}, nil,
			render.ErrInvalid, "team/web.deployment"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newRenderer(t, tc.mod).Render(tc.tree, "team")
			require.ErrorIs(t, err, tc.is)
			require.ErrorContains(t, err, tc.msg)
		})
	}
}

func TestAllowances(t *testing.T) {
	tree := fstest.MapFS{"team/a.yaml": file("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: shared}\n---\n" +
		"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: reader}\n")}
	objs, err := newRenderer(t, func(o *render.Options) {
		o.AllowNamespaces = []string{"shared"}
		o.AllowClusterScoped = true
	}).Render(tree, "team")
	require.NoError(t, err)
	require.Len(t, objs, 2)
	require.Equal(t, "shared", objs[0].GetNamespace())
	require.Empty(t, objs[1].GetNamespace())
}

func TestRenderThousandObjectsIsFast(t *testing.T) {
	tree := fstest.MapFS{}
	for i := 0; i < 1000; i++ {
		tree[fmt.Sprintf("team/cm-%04d.yaml", i)] = file(fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%d}\ndata: {i: \"%d\"}\n", i, i))
	}
	objs, err := newRenderer(t, nil).Render(tree, "team")
	require.NoError(t, err)
	require.Len(t, objs, 1000)
}

func FuzzRender(f *testing.F) {
	f.Add([]byte(deploy))
	f.Add([]byte("apiVersion: v1\nkind: List\nitems: [{apiVersion: v1, kind: ConfigMap, metadata: {name: a}}]\n"))
	f.Add([]byte("---\n---\n{}\n"))
	r, err := render.New(render.Options{Cluster: "prod", Scoper: kinds})
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = r.Render(fstest.MapFS{"team/x.yaml": {Data: b}}, "team")
	})
}
