package cluster

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
)

// Tool is one binary built from a pinned build module under testing/tools.
type Tool struct {
	// Module is the directory under testing/tools holding the build module.
	Module string
	// Pin is the module whose required version names the cache entry.
	Pin string
	// Packages are the main packages to build, one binary each.
	Packages []string
}

// Tools of the control plane.
var (
	Etcd = Tool{Module: "etcd", Pin: "go.etcd.io/etcd/server/v3", Packages: []string{"go.etcd.io/etcd/server/v3"}}
	Kube = Tool{Module: "kube", Pin: "k8s.io/kubernetes", Packages: []string{
		"k8s.io/kubernetes/cmd/kube-apiserver",
		"k8s.io/kubernetes/cmd/kube-controller-manager",
		"k8s.io/kubernetes/cmd/kube-scheduler",
	}}
	Kwok = Tool{Module: "kwok", Pin: "sigs.k8s.io/kwok", Packages: []string{"sigs.k8s.io/kwok/cmd/kwok"}}
)

// binName is the file name go build gives a main package.
func binName(pkg string) string {
	base := filepath.Base(pkg)
	if strings.HasPrefix(base, "v") && strings.Trim(base[1:], "0123456789") == "" {
		// go.etcd.io/etcd/server/v3 builds as "server"; call it what it is.
		return filepath.Base(filepath.Dir(filepath.Dir(pkg)))
	}
	return base
}

// RepoRoot finds the syncgate checkout: from this source file when it is on
// disk, else by walking up from the working directory.
func RepoRoot() (string, error) {
	var starts []string
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		starts = append(starts, filepath.Dir(file))
	}
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	for _, dir := range starts {
		for d := dir; ; d = filepath.Dir(d) {
			b, err := os.ReadFile(filepath.Join(d, "go.mod"))
			if err == nil && strings.Contains(string(b), "module github.com/syncgate/syncgate\n") {
				return d, nil
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	return "", errors.New("cannot find the syncgate source tree (go.mod of github.com/syncgate/syncgate)")
}

// CacheDir is where built binaries are kept: $SYNCGATE_CACHE_DIR, else
// <user cache dir>/syncgate/bin.
func CacheDir() (string, error) {
	if d := os.Getenv("SYNCGATE_CACHE_DIR"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache dir: %w", err)
	}
	return filepath.Join(d, "syncgate", "bin"), nil
}

// Version reads the pinned version from the tool's build module.
func (t Tool) Version() (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	f, err := os.Open(filepath.Join(root, "testing", "tools", t.Module, "go.mod"))
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(strings.TrimPrefix(strings.TrimSpace(sc.Text()), "require "))
		if len(fields) >= 2 && fields[0] == t.Pin {
			return fields[1], nil
		}
	}
	return "", fmt.Errorf("%s not required in testing/tools/%s/go.mod", t.Pin, t.Module)
}

// Ensure returns the directory holding the tool's binaries, building them
// first when the cache has no entry for the pinned version. Concurrent
// callers (several test packages) build once: the build holds a file lock.
func (t Tool) Ensure(ctx context.Context, log func(string, ...any)) (string, error) {
	ver, err := t.Version()
	if err != nil {
		return "", err
	}
	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(cache, t.Module+"-"+ver)
	if t.complete(dir) {
		return dir, nil
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(cache, t.Module+".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if log != nil {
			log("waiting for another process building %s %s", t.Module, ver)
		}
		if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
			return "", fmt.Errorf("lock %s: %w", lock.Name(), err)
		}
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck
	if t.complete(dir) {
		return dir, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(cache, "."+t.Module+"-build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	if log != nil {
		log("building %s %s into %s (first use on this machine; cached afterwards)", t.Module, ver, dir)
	}
	for _, pkg := range t.Packages {
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(tmp, binName(pkg)), pkg)
		cmd.Dir = filepath.Join(root, "testing", "tools", t.Module)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("build %s: %w\n%s", pkg, err, tail(string(out), 2000))
		}
	}
	_ = os.RemoveAll(dir)
	if err := os.Rename(tmp, dir); err != nil {
		return "", err
	}
	return dir, nil
}

func (t Tool) complete(dir string) bool {
	for _, pkg := range t.Packages {
		if fi, err := os.Stat(filepath.Join(dir, binName(pkg))); err != nil || fi.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}

// ModuleDir is the module cache directory of the tool's pinned module, for
// reading files it ships (kwok's stage definitions).
func (t Tool) ModuleDir(ctx context.Context) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", t.Pin)
	cmd.Dir = filepath.Join(root, "testing", "tools", t.Module)
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("locate %s: %w", t.Pin, err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		cmd = exec.CommandContext(ctx, "go", "mod", "download", t.Pin)
		cmd.Dir = filepath.Join(root, "testing", "tools", t.Module)
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("download %s: %w: %s", t.Pin, err, out)
		}
		return t.ModuleDir(ctx)
	}
	return dir, nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
