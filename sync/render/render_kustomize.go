package render

import (
	"context"
	"fmt"
	"regexp"
	"strings"

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

// kustomize builds dir in a build process (render_sandbox.go, package
// buildproc) and checks what it returns. The build sees the repository as an in-memory file
// system filled through the parent on demand: ../base and the like work,
// nothing outside the repository exists, so load restrictions can be off.
func (r *Renderer) kustomize(ctx context.Context, b *budget, dir, kfile string) ([]object, error) {
	if err := r.acquire(ctx); err != nil {
		return nil, err
	}
	defer func() { <-r.builds }()
	proc, err := startBuild(r.program, r.opts.Limits)
	if err != nil {
		return nil, fmt.Errorf("render %s: start the kustomize build program %s: %w", kfile, r.program, err)
	}
	s := &session{r: r, b: b, kfile: kfile, proc: proc}
	stop := s.watch(ctx)
	err = s.serve("/" + dir)
	stop()
	exit := proc.wait()
	return s.verdict(ctx, err, exit)
}

// acquire waits for a build slot.
func (r *Renderer) acquire(ctx context.Context) error {
	select {
	case r.builds <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func rel(p string) string {
	if p == "/" {
		return "."
	}
	return p[1:]
}

// refuseRemote explains the common remote references early, naming the
// field: URLs, git repositories and Helm charts in the kustomization's own
// fields. It guarantees nothing (kustomize also reads keys in any case,
// and paths from generator and transformer configs): the build process,
// which has no network, does. A fetch it attempts anyway is ErrRemoteBase
// naming the URL; a git clone fails for want of git.
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
