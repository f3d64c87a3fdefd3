package flux

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/syncgate/syncgate/testing/cluster"
)

// The build module must carry the controller's own replace directives
// (those that name a module version, not a directory of its repository):
// without them the graph picks other versions of go-digest and kustomize
// than the release was built with.
func TestBuildModuleCarriesTheControllersReplaces(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads the controller's go.mod from the module proxy")
	}
	version, err := KustomizeController.Version()
	if err != nil {
		t.Fatal(err)
	}
	dl := exec.Command("go", "mod", "download", "-json", KustomizeController.Pin+"@"+version)
	dl.Dir = t.TempDir()
	out, err := dl.Output()
	if err != nil {
		t.Fatalf("download: %v: %s", err, out)
	}
	var info struct{ GoMod string }
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatal(err)
	}
	root, err := cluster.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	ours := replaces(t, filepath.Join(root, "testing", "tools", KustomizeController.Module, "go.mod"))
	theirs := replaces(t, info.GoMod)
	if len(theirs) == 0 {
		t.Fatal("found no replace directive in the controller's go.mod")
	}
	for _, r := range theirs {
		if !slices.Contains(ours, r) {
			t.Errorf("testing/tools/flux/go.mod lacks the controller's replace %q", r)
		}
	}
}

// replaces are a go.mod's replace directives that name a module version,
// as "old => new version", whitespace normalised.
func replaces(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(sc.Text()), "replace "))
		old, repl, ok := strings.Cut(line, "=>")
		if !ok {
			continue
		}
		newFields := strings.Fields(repl)
		if len(newFields) != 2 { // a directory: the controller's own api module
			continue
		}
		out = append(out, strings.Join(append(strings.Fields(old), "=>", newFields[0], newFields[1]), " "))
	}
	return out
}
