package flux

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/syncgate/syncgate/sync/apply"
	"github.com/syncgate/syncgate/testing/cluster"
)

// sourceAPI is the module whose version names the source-controller
// release the CRDs of the sources come from.
const sourceAPI = "github.com/fluxcd/source-controller/api"

// crdFiles are the CRDs kustomize-controller needs, from the modules'
// config/crd/bases: the Kustomization from the controller's own module, the
// sources it can follow from source-controller at the release of the
// source API the controller is built with.
var crdFiles = map[string][]string{
	"kustomize-controller": {"kustomize.toolkit.fluxcd.io_kustomizations.yaml"},
	"source-controller": {
		"source.toolkit.fluxcd.io_gitrepositories.yaml",
		"source.toolkit.fluxcd.io_ocirepositories.yaml",
		"source.toolkit.fluxcd.io_buckets.yaml",
		"source.toolkit.fluxcd.io_externalartifacts.yaml",
	},
}

// crdPaths are the CRD files in the module cache, downloading the modules
// when they are not there yet.
func crdPaths(ctx context.Context) ([]string, error) {
	kc, err := KustomizeController.ModuleDir(ctx)
	if err != nil {
		return nil, err
	}
	src, err := sourceControllerDir(ctx)
	if err != nil {
		return nil, err
	}
	var paths []string
	for mod, dir := range map[string]string{"kustomize-controller": kc, "source-controller": src} {
		for _, f := range crdFiles[mod] {
			paths = append(paths, filepath.Join(dir, "config", "crd", "bases", f))
		}
	}
	slices.Sort(paths)
	return paths, nil
}

// sourceControllerDir is source-controller's module directory, at the
// version of its API module in the build module's graph. It is downloaded
// outside the build module so that it does not enter the graph.
func sourceControllerDir(ctx context.Context) (string, error) {
	root, err := cluster.RepoRoot()
	if err != nil {
		return "", err
	}
	list := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Version}}", sourceAPI)
	list.Dir = filepath.Join(root, "testing", "tools", KustomizeController.Module)
	out, err := list.Output()
	if err != nil {
		return "", fmt.Errorf("version of %s: %w", sourceAPI, err)
	}
	version := strings.TrimSpace(string(out))
	tmp, err := os.MkdirTemp("", "syncgate-flux-crds-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	mod := strings.TrimSuffix(sourceAPI, "/api") + "@" + version
	dl := exec.CommandContext(ctx, "go", "mod", "download", "-json", mod)
	dl.Dir = tmp
	dl.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GO111MODULE=on")
	out, err = dl.Output()
	if err != nil {
		return "", fmt.Errorf("download %s: %w: %s", mod, err, out)
	}
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(out, &info); err != nil {
		return "", fmt.Errorf("download %s: %w", mod, err)
	}
	if info.Error != "" || info.Dir == "" {
		return "", fmt.Errorf("download %s: %s", mod, info.Error)
	}
	return info.Dir, nil
}

var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// InstallCRDs applies the CRDs and waits until the API server serves them.
func InstallCRDs(ctx context.Context, cfg *rest.Config) error {
	paths, err := crdPaths(ctx)
	if err != nil {
		return err
	}
	var objs []*unstructured.Unstructured
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(b, &u.Object); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		objs = append(objs, u)
	}
	a, err := apply.New(cfg, apply.Options{})
	if err != nil {
		return err
	}
	if _, err := a.Apply(ctx, "", objs, nil); err != nil {
		return fmt.Errorf("install Flux CRDs: %w", err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	for _, o := range objs {
		err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			crd, err := dyn.Resource(crdResource).Get(ctx, o.GetName(), metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			return conditionTrue(crd, "Established"), nil
		})
		if err != nil {
			return fmt.Errorf("CRD %s not established: %w", o.GetName(), err)
		}
	}
	return nil
}

// conditionTrue reports whether u's status has condition typ True.
func conditionTrue(u *unstructured.Unstructured, typ string) bool {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if ok && m["type"] == typ {
			return m["status"] == "True"
		}
	}
	return false
}
