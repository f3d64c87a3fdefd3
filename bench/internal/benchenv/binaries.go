package benchenv

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/syncgate/syncgate/testing/cluster"
)

// Binary is one syncgate build under test.
type Binary struct{ Name, Path string }

// Binaries reads a -bin flag, name=path,... (builds to set side by side);
// when it is empty, this tree's ./cmd/syncgate is built into dir as the
// image builds it (-trimpath, -tags nomsgpack, no symbol table: what a
// deployed agent maps; keep in step with the Makefile and deploy/Dockerfile)
// and named name.
func Binaries(ctx context.Context, flagValue, dir, name string) ([]Binary, error) {
	if flagValue != "" {
		var out []Binary
		for _, b := range strings.Split(flagValue, ",") {
			n, path, ok := strings.Cut(b, "=")
			if !ok {
				return nil, fmt.Errorf("-bin %q: want name=path", b)
			}
			out = append(out, Binary{n, path})
		}
		return out, nil
	}
	root, err := cluster.RepoRoot()
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(dir, "syncgate")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-tags", "nomsgpack", "-ldflags", "-s -w", "-o", bin, "./cmd/syncgate")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build syncgate: %w\n%s", err, out)
	}
	return []Binary{{name, bin}}, nil
}
