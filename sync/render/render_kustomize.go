package render

import (
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// kustomizationNames are the file names kustomize recognizes, in its order.
var kustomizationNames = []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

func isKustomization(name string) bool {
	for _, n := range kustomizationNames {
		if name == n {
			return true
		}
	}
	return false
}

// maxKustomizeEntries bounds the files and directories a build may make
// visible, against symlink loops and huge repositories.
const maxKustomizeEntries = 100_000

// kustomize builds dir with krusty over an in-memory file system holding
// the repository: ../base and the like work, nothing outside the repository
// exists, so load restrictions can be off. Files are read into memory only
// when kustomize asks for them, with the same size limit as everywhere.
// Remote references are refused before kustomize sees them, and plugins and
// exec functions are off.
func (r *Renderer) kustomize(tree fs.FS, dir, kfile string) ([]object, error) {
	repo := newRepoFS(tree, r)
	opts := krusty.MakeDefaultOptions()
	opts.LoadRestrictions = types.LoadRestrictionsNone
	opts.PluginConfig = types.DisabledPluginConfig()
	res, err := runKustomize(opts, repo, "/"+dir)
	if repo.refusal != nil {
		return nil, repo.refusal
	}
	if err != nil {
		if repo.trouble != nil {
			return nil, repo.trouble
		}
		return nil, fileErr(kfile, because(ErrBuild, "kustomize build: %v", err))
	}
	out := make([]object, 0, res.Size())
	for i, rs := range res.Resources() {
		j, err := rs.MarshalJSON()
		var m map[string]any
		if err == nil {
			err = utiljson.Unmarshal(j, &m)
		}
		if err != nil {
			return nil, fileErr(kfile, because(ErrBuild, "resource %d of the build: %v", i+1, err))
		}
		u := &unstructured.Unstructured{Object: m}
		if err := check(kfile, fmt.Sprintf("resource %d of the build", i+1), u); err != nil {
			return nil, err
		}
		out = append(out, object{obj: u, file: kfile})
		if len(out) > r.opts.MaxObjects {
			return nil, fileErr(kfile, because(ErrTooMany, "the build has more than the limit of %d objects", r.opts.MaxObjects))
		}
	}
	return out, nil
}

// runKustomize turns a panic inside kustomize into an error: a malformed
// commit must fail, not take the process down.
func runKustomize(opts *krusty.Options, fsys filesys.FileSystem, dir string) (res resmap.ResMap, err error) {
	defer func() {
		if p := recover(); p != nil {
			res, err = nil, fmt.Errorf("kustomize panicked: %v", p)
		}
	}()
	return krusty.MakeKustomizer(opts).Run(fsys, dir)
}

// repoFS is kustomize's view of the repository: an in-memory file system
// filled on demand. A directory's entries appear when kustomize first looks
// at or below it (so symlink loops cost nothing until walked), and a file's
// content is read when kustomize reads it.
type repoFS struct {
	filesys.FileSystem
	tree fs.FS
	r    *Renderer

	listed  map[string]bool  // directories whose entries are in memory
	pending map[string]bool  // files whose content is not read yet
	failed  map[string]error // files that could not be read
	budget  int

	// refusal is the first refused file kustomize read; it fails the build
	// whatever kustomize made of it. trouble is the first other problem,
	// reported when the build fails.
	refusal, trouble error
}

func newRepoFS(tree fs.FS, r *Renderer) *repoFS {
	return &repoFS{
		FileSystem: filesys.MakeFsInMemory(),
		tree:       tree, r: r,
		listed: map[string]bool{}, pending: map[string]bool{}, failed: map[string]error{},
		budget: maxKustomizeEntries,
	}
}

func clean(p string) string {
	if !path.IsAbs(p) {
		p = "/" + p
	}
	return path.Clean(filepath.ToSlash(p))
}

func rel(p string) string {
	if p == "/" {
		return "."
	}
	return p[1:]
}

// ensure lists every directory on the way to p, and p when it is one.
func (f *repoFS) ensure(p string) string {
	p = clean(p)
	f.list("/")
	dir := "/"
	for _, part := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
		if part == "" {
			break
		}
		dir = path.Join(dir, part)
		if !f.FileSystem.IsDir(dir) {
			break
		}
		f.list(dir)
	}
	return p
}

func (f *repoFS) list(dir string) {
	if f.listed[dir] {
		return
	}
	f.listed[dir] = true
	entries, err := fs.ReadDir(f.tree, rel(dir))
	if err != nil {
		f.note(fileErr(rel(dir), err), false)
		return
	}
	for _, e := range entries {
		if f.budget--; f.budget < 0 {
			f.note(fileErr(rel(dir), because(ErrTooMany, "the repository has more than %d files and directories for kustomize", maxKustomizeEntries)), true)
			return
		}
		full := path.Join(dir, e.Name())
		if e.IsDir() {
			_ = f.FileSystem.MkdirAll(full)
			continue
		}
		_ = f.FileSystem.WriteFile(full, nil)
		f.pending[full] = true
	}
}

// listAll lists everything below p, for Walk and Glob.
func (f *repoFS) listAll(p string) {
	queue := []string{f.ensure(p)}
	for len(queue) > 0 && f.budget >= 0 {
		d := queue[0]
		queue = queue[1:]
		if !f.FileSystem.IsDir(d) {
			continue
		}
		f.list(d)
		names, _ := f.FileSystem.ReadDir(d)
		for _, n := range names {
			queue = append(queue, path.Join(d, n))
		}
	}
}

// load reads a file's content into memory, once.
func (f *repoFS) load(p string) error {
	if err, ok := f.failed[p]; ok {
		return err
	}
	if !f.pending[p] {
		return nil
	}
	delete(f.pending, p)
	b, err := f.r.readFile(f.tree, rel(p))
	if err == nil && isKustomization(path.Base(p)) {
		err = refuseRemote(rel(p), b)
	}
	if err != nil {
		f.failed[p] = err
		f.note(err, true)
		return err
	}
	return f.FileSystem.WriteFile(p, b)
}

func (f *repoFS) note(err error, refusal bool) {
	switch {
	case refusal && f.refusal == nil:
		f.refusal = err
	case !refusal && f.trouble == nil:
		f.trouble = err
	}
}

func (f *repoFS) Open(p string) (filesys.File, error) {
	p = f.ensure(p)
	if err := f.load(p); err != nil {
		return nil, err
	}
	return f.FileSystem.Open(p)
}

func (f *repoFS) ReadFile(p string) ([]byte, error) {
	p = f.ensure(p)
	if err := f.load(p); err != nil {
		return nil, err
	}
	return f.FileSystem.ReadFile(p)
}

func (f *repoFS) IsDir(p string) bool  { return f.FileSystem.IsDir(f.ensure(p)) }
func (f *repoFS) Exists(p string) bool { return f.FileSystem.Exists(f.ensure(p)) }
func (f *repoFS) ReadDir(p string) ([]string, error) {
	return f.FileSystem.ReadDir(f.ensure(p))
}

func (f *repoFS) CleanedAbs(p string) (filesys.ConfirmedDir, string, error) {
	return f.FileSystem.CleanedAbs(f.ensure(p))
}

func (f *repoFS) Glob(pattern string) ([]string, error) {
	f.listAll("/")
	return f.FileSystem.Glob(pattern)
}

func (f *repoFS) Walk(p string, fn filepath.WalkFunc) error {
	f.listAll(p)
	return f.FileSystem.Walk(clean(p), fn)
}

// refuseRemote rejects a kustomization that references anything kustomize
// would fetch over the network: URLs, git repositories, Helm charts.
func refuseRemote(file string, b []byte) error {
	var k map[string]any
	if err := yaml.Unmarshal(b, &k); err != nil {
		return fileErr(file, because(ErrInvalid, "invalid kustomization: %v", err))
	}
	for _, field := range []string{"helmCharts", "helmChartInflationGenerator", "helmGlobals"} {
		if _, ok := k[field]; ok {
			return fileErr(file, because(ErrRemoteBase, "%s: Helm charts are not supported (they need helm and the network); render the chart into the repo", field))
		}
	}
	for _, ref := range references(k) {
		if !strings.Contains(ref.value, "\n") && looksRemote(ref.value) {
			return fileErr(file, because(ErrRemoteBase, "%s: remote reference %q is not allowed; vendor it into the repo", ref.field, ref.value))
		}
	}
	return nil
}

type reference struct{ field, value string }

// references lists the paths a kustomization loads.
func references(k map[string]any) []reference {
	var out []reference
	add := func(field string, v any) {
		switch v := v.(type) {
		case string:
			out = append(out, reference{field, v})
		case []any:
			for _, s := range v {
				if s, ok := s.(string); ok {
					if _, after, found := strings.Cut(s, "="); found && strings.HasSuffix(field, "Generator") {
						s = after // generator files: key=path
					}
					out = append(out, reference{field, s})
				}
			}
		}
	}
	for _, field := range []string{"resources", "bases", "components", "crds", "configurations",
		"generators", "transformers", "validators", "patchesStrategicMerge"} {
		add(field, k[field])
	}
	if m, ok := k["openapi"].(map[string]any); ok {
		add("openapi", m["path"])
	}
	for _, field := range []string{"patches", "patchesJson6902", "replacements", "configMapGenerator", "secretGenerator"} {
		list, _ := k[field].([]any)
		for _, item := range list {
			m, ok := item.(map[string]any)
			if !ok {
				continue
			}
			for _, sub := range []string{"path", "files", "envs", "env"} {
				add(field, m[sub])
			}
		}
	}
	return out
}

var gitUser = regexp.MustCompile(`^[a-z][a-z0-9-]*@`)

// looksRemote follows what kustomize itself treats as remote: a URL scheme,
// a user@host git address, or a GitHub shorthand.
func looksRemote(ref string) bool {
	s := strings.ToLower(strings.TrimSpace(ref))
	s = strings.TrimPrefix(s, "git::")
	return strings.Contains(s, "://") || gitUser.MatchString(s) ||
		strings.HasPrefix(s, "github.com/") || strings.HasPrefix(s, "github.com:")
}
