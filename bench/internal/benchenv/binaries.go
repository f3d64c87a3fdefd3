package benchenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/syncgate/syncgate/sync/render"
)

// Binary is one syncgate build under test.
type Binary struct{ Name, Path string }

// Binaries reads a -bin flag, name=path,... (builds to set side by side);
// when it is empty, this tree's agent is built (Build) and named name.
// Each is installed into dir/<name>/ (install), so that every build starts
// as it would from an image.
func Binaries(ctx context.Context, flagValue, dir, name string) ([]Binary, error) {
	if flagValue == "" {
		bin, err := Build(ctx, filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		return []Binary{{name, bin}}, nil
	}
	var out []Binary
	for _, b := range strings.Split(flagValue, ",") {
		if b == "" {
			continue
		}
		n, path, ok := strings.Cut(b, "=")
		if !ok {
			return nil, fmt.Errorf("-bin %q: want name=path", b)
		}
		out = append(out, Binary{n, path})
	}
	for i, b := range out {
		installed, err := install(b.Path, filepath.Join(dir, b.Name))
		if err != nil {
			return nil, fmt.Errorf("-bin %s: %w", b.Name, err)
		}
		out[i].Path = installed
	}
	return out, nil
}

// install copies the agent at path, and the kustomize build program beside
// it when there is one, into dir, and drops the copies from the page cache.
// A node writes an image's files when it unpacks the layer and may have
// reclaimed their pages by the time the container starts; either way the
// executable comes into the page cache in small folios. The Go linker
// instead writes its output through a shared mapping, which leaves it in
// the page cache in 2 MB folios, and this kernel maps those whole: run
// straight from `go build`, the agent held 30–40 MB more of its executable
// than the same bytes copied (bench/README.md, Memory).
func install(path, dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	for _, name := range []string{filepath.Base(path), render.ProgramName} {
		src := filepath.Join(filepath.Dir(path), name)
		if name == render.ProgramName {
			if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
				continue // a build from before the program existed
			}
		}
		if err := copyUncached(src, filepath.Join(dir, name)); err != nil {
			return "", err
		}
	}
	return filepath.Join(dir, filepath.Base(path)), nil
}

func copyUncached(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync() // only clean pages can be dropped
	}
	if err == nil {
		err = unix.Fadvise(int(out.Fd()), 0, 0, unix.FADV_DONTNEED)
	}
	return errors.Join(err, out.Close())
}
