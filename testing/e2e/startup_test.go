package e2e

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// An agent whose kustomize build program is missing, or is not the one it
// was built with, does not start: it exits 3 with one line naming the
// program, before it reads the cluster (none is needed here).
func TestStartupChecksTheBuildProgram(t *testing.T) {
	bin := syncgateBinary(t)
	agent, err := os.ReadFile(bin)
	require.NoError(t, err)
	for _, c := range []struct{ name, program, want string }{
		{"missing", "", "syncgate-render: not found"},
		{"of another protocol", "#!/bin/sh\nexit 4\n", `syncgate-render: does not speak protocol "1"`},
		{"not a build program", "#!/bin/sh\necho hello\n", "syncgate-render: ended without answering the handshake (exit status 0: hello)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "syncgate"), agent, 0o755))
			if c.program != "" {
				require.NoError(t, os.WriteFile(filepath.Join(dir, "syncgate-render"), []byte(c.program), 0o755))
			}
			cmd := exec.Command(filepath.Join(dir, "syncgate"), "run")
			cmd.Env = []string{"CONFIG_REPO=https://git.example.com/config.git", "CLUSTER_NAME=" + cluster1,
				"MANAGED_NAMESPACES=team", "KUBECONFIG=" + filepath.Join(dir, "kubeconfig")}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			require.True(t, errors.As(err, &ee), "it started: %v", err)
			require.Equal(t, 3, ee.ExitCode())
			out := strings.TrimSuffix(stderr.String(), "\n")
			require.NotContains(t, out, "\n", "one line")
			require.True(t, strings.HasPrefix(out, "syncgate: the kustomize build program "+dir), out)
			require.Contains(t, out, c.want)
		})
	}
}
