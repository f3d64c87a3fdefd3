package version_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestGeneratedFilesAreCurrent runs controller-gen from its build module
// into a scratch directory and compares with what is committed, so a type
// changed without `make generate` fails here.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds controller-gen (not in -short mode)")
	}
	goBin, err := exec.LookPath("go")
	require.NoError(t, err)
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	out := t.TempDir()
	cmd := exec.Command(goBin, "run", "sigs.k8s.io/controller-tools/cmd/controller-gen",
		"object", "paths="+filepath.Join(root, "status", "version")+"/...", "output:object:dir="+filepath.Join(out, "object"),
		"crd:crdVersions=v1", "output:crd:dir="+filepath.Join(out, "crd"))
	cmd.Dir = filepath.Join(root, "testing", "tools", "codegen")
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", b)
	for generated, committed := range map[string]string{
		filepath.Join(out, "object", "zz_generated.deepcopy.go"): filepath.Join(root, "status", "version", "zz_generated.deepcopy.go"),
		filepath.Join(out, "crd", "syncgate.dev_versions.yaml"):  filepath.Join(root, "deploy", "crds", "syncgate.dev_versions.yaml"),
	} {
		want, err := os.ReadFile(generated)
		require.NoError(t, err)
		got, err := os.ReadFile(committed)
		require.NoError(t, err)
		require.Equal(t, string(want), string(got), "%s is stale: run make generate", committed)
	}
}
