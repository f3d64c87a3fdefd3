package render

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

func bufioReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }

// kustomize builds dir with krusty on an in-memory copy of the repo: paths
// like ../base work, nothing outside the repo can be reached, remote bases
// are refused before the build, and plugins and exec functions are off.
func (r *Renderer) kustomize(tree fs.FS, dir string) ([]object, error) {
	mem := filesys.MakeFsInMemory()
	err := fs.WalkDir(tree, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fileErr(p, err)
		}
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") && p != "." {
				return fs.SkipDir
			}
			return mem.MkdirAll("/" + p)
		}
		b, err := r.readFile(tree, p)
		if err != nil {
			return err
		}
		if isKustomization(d.Name()) {
			if err := refuseRemote(p, b); err != nil {
				return err
			}
		}
		return mem.WriteFile("/"+p, b)
	})
	if err != nil {
		return nil, err
	}
	opts := krusty.MakeDefaultOptions()
	opts.LoadRestrictions = types.LoadRestrictionsNone // confined by the in-memory copy
	opts.PluginConfig = types.DisabledPluginConfig()
	res, err := krusty.MakeKustomizer(opts).Run(mem, "/"+dir)
	if err != nil {
		return nil, fileErr(path.Join(dir, "kustomization.yaml"), fmt.Errorf("kustomize build: %w", err))
	}
	file := path.Join(dir, "kustomization.yaml")
	var out []object
	for _, rs := range res.Resources() {
		m, err := rs.Map()
		if err != nil {
			return nil, fileErr(file, err)
		}
		u := &unstructured.Unstructured{Object: m}
		if err := check(file, u); err != nil {
			return nil, err
		}
		out = append(out, object{obj: u, file: file})
		if len(out) > r.opts.MaxObjects {
			return nil, fileErr(file, fmt.Errorf("%w: more than %d objects", ErrTooMany, r.opts.MaxObjects))
		}
	}
	return out, nil
}

func isKustomization(name string) bool {
	for _, n := range kustomizationNames {
		if name == n {
			return true
		}
	}
	return false
}

// refuseRemote rejects kustomizations that reference anything by URL.
func refuseRemote(file string, b []byte) error {
	var k struct {
		Resources  []string `json:"resources"`
		Bases      []string `json:"bases"`
		Components []string `json:"components"`
		HelmCharts []any    `json:"helmCharts"`
	}
	if err := yaml.Unmarshal(b, &k); err != nil {
		return fileErr(file, fmt.Errorf("%w kustomization: %v", ErrInvalid, err))
	}
	if len(k.HelmCharts) > 0 {
		return fileErr(file, fmt.Errorf("%w: helmCharts need a helm binary and the network", ErrRemoteBase))
	}
	for _, list := range [][]string{k.Resources, k.Bases, k.Components} {
		for _, ref := range list {
			if looksRemote(ref) {
				return fileErr(file, fmt.Errorf("%w: %s", ErrRemoteBase, ref))
			}
		}
	}
	return nil
}

func looksRemote(ref string) bool {
	return strings.Contains(ref, "://") || strings.HasPrefix(ref, "git@") || strings.Contains(ref, "?ref=") ||
		strings.HasPrefix(ref, "github.com/") || strings.HasPrefix(ref, "gitlab.com/") || strings.HasPrefix(ref, "bitbucket.org/")
}
