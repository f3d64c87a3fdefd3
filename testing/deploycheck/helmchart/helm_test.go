package helmchart

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"helm.sh/helm/v4/pkg/action"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/kube"
	release "helm.sh/helm/v4/pkg/release/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"sigs.k8s.io/yaml"

	"github.com/syncgate/syncgate/testing/cluster"
)

func TestMain(m *testing.M) { os.Exit(cluster.Main(m, cluster.Options{})) }

// chartDir is deploy/chart/syncgate of this source tree.
func chartDir(t testing.TB) string {
	t.Helper()
	root, err := cluster.RepoRoot()
	require.NoError(t, err)
	return filepath.Join(root, "deploy", "chart", "syncgate")
}

func loadChart(t testing.TB) *chart.Chart {
	t.Helper()
	// The loader logs each symbolic link it follows (files/ links to
	// deploy/crds and deploy/monitoring) at info level.
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	ch, err := loader.Load(chartDir(t))
	require.NoError(t, err)
	return ch
}

// quiet is an action configuration whose logs are dropped.
func quiet() *action.Configuration {
	return action.NewConfiguration(action.ConfigurationSetLogger(slog.NewTextHandler(io.Discard, nil)))
}

// render is `helm template <release> deploy/chart/syncgate -n <namespace>`
// with vals: the objects, or Helm's error (schema and template checks).
func render(t testing.TB, releaseName, namespace string, vals map[string]any) ([]*unstructured.Unstructured, error) {
	t.Helper()
	inst := action.NewInstall(quiet())
	inst.DryRunStrategy = action.DryRunClient
	inst.Replace = true
	inst.ReleaseName = releaseName
	inst.Namespace = namespace
	rel, err := inst.Run(loadChart(t), vals)
	if err != nil {
		return nil, err
	}
	return decode(t, rel.(*release.Release).Manifest), nil
}

// mustRender renders and fails the test on an error.
func mustRender(t testing.TB, vals map[string]any) []*unstructured.Unstructured {
	t.Helper()
	objs, err := render(t, "syncgate", "syncgate", vals)
	require.NoError(t, err)
	return objs
}

// decode splits a multi-document manifest into objects.
func decode(t testing.TB, manifest string) []*unstructured.Unstructured {
	t.Helper()
	var objs []*unstructured.Unstructured
	r := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(manifest)))
	for {
		doc, err := r.Read()
		if err == io.EOF {
			return objs
		}
		require.NoError(t, err)
		j, err := yaml.YAMLToJSON(doc)
		require.NoError(t, err)
		if string(j) == "null" {
			continue
		}
		objs = append(objs, fromJSON(t, j))
	}
}

// fromJSON reads an object as the API machinery does (integers int64).
func fromJSON(t testing.TB, j []byte) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	require.NoError(t, u.UnmarshalJSON(j))
	return u
}

// find is the object of kind named name (in namespace, when given), or nil.
func find(objs []*unstructured.Unstructured, kind, namespace, name string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name && (namespace == "" || o.GetNamespace() == namespace) {
			return o
		}
	}
	return nil
}

// install is `helm install <release> deploy/chart/syncgate -n <namespace>
// --create-namespace --wait` against c, with the admin credential, and
// `helm uninstall` when the test ends.
func install(t *testing.T, c *cluster.Cluster, releaseName, namespace string, vals map[string]any) *release.Release {
	t.Helper()
	cfg := configFor(t, c, namespace)
	inst := action.NewInstall(cfg)
	inst.ReleaseName = releaseName
	inst.Namespace = namespace
	inst.CreateNamespace = true
	inst.WaitStrategy = kube.StatusWatcherStrategy
	inst.Timeout = time.Minute
	rel, err := inst.RunWithContext(context.Background(), loadChart(t), vals)
	require.NoError(t, err)
	t.Cleanup(func() {
		un := action.NewUninstall(configFor(t, c, namespace))
		un.WaitStrategy = kube.HookOnlyStrategy
		_, _ = un.Run(releaseName)
	})
	return rel.(*release.Release)
}

func configFor(t *testing.T, c *cluster.Cluster, namespace string) *action.Configuration {
	t.Helper()
	kubeconfig := c.KubeconfigPath()
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig = &kubeconfig
	flags.Namespace = &namespace
	cfg := quiet()
	require.NoError(t, cfg.Init(flags, namespace, "secret"))
	return cfg
}

// values reads YAML values, as a values file would give them.
func values(t testing.TB, y string) map[string]any {
	t.Helper()
	out := map[string]any{}
	err := utilyaml.NewYAMLOrJSONDecoder(bytes.NewBufferString(y), 4096).Decode(&out)
	if err != io.EOF {
		require.NoError(t, err)
	}
	return out
}
