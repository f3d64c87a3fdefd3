package cirunner

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"github.com/syncgate/syncgate/testing/cluster"
)

// Act is nektos/act, pinned in testing/tools/act.
var Act = cluster.Tool{Module: "act", Pin: "github.com/nektos/act", Packages: []string{"github.com/nektos/act"}}

// gitlabCILocal is the npm package pinned (with its lock file) in
// testing/tools/gitlab-ci-local.
const gitlabCILocal = "gitlab-ci-local"

// ActBinary returns the path of act, building it on first use.
func ActBinary(ctx context.Context, log func(string, ...any)) (string, error) {
	dir, err := Act.Ensure(ctx, log)
	if err != nil {
		return "", fmt.Errorf("act: %w", err)
	}
	return filepath.Join(dir, "act"), nil
}

// GitLabCILocalVersion is the version testing/tools/gitlab-ci-local pins.
func GitLabCILocalVersion() (string, error) {
	root, err := cluster.RepoRoot()
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(filepath.Join(root, "testing", "tools", gitlabCILocal, "package.json"))
	if err != nil {
		return "", err
	}
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		return "", fmt.Errorf("testing/tools/%s/package.json: %w", gitlabCILocal, err)
	}
	v := pkg.Dependencies[gitlabCILocal]
	if v == "" {
		return "", fmt.Errorf("testing/tools/%s/package.json pins no %s", gitlabCILocal, gitlabCILocal)
	}
	return v, nil
}

// GitLabCILocalBinary returns the path of gitlab-ci-local, installing the
// pinned version with npm (npm ci, from the lock file) into the cache on
// first use. It needs node and npm on PATH.
func GitLabCILocalBinary(ctx context.Context, log func(string, ...any)) (string, error) {
	ver, err := GitLabCILocalVersion()
	if err != nil {
		return "", err
	}
	cache, err := cluster.CacheDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(cache, gitlabCILocal+"-"+ver)
	bin := filepath.Join(dir, "node_modules", ".bin", gitlabCILocal)
	if usable(bin) {
		return bin, nil
	}
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			return "", fmt.Errorf("%s %s needs %s on PATH (apt-get install nodejs npm): %w", gitlabCILocal, ver, tool, err)
		}
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(cache, gitlabCILocal+".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("lock %s: %w", lock.Name(), err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck
	if usable(bin) {
		return bin, nil
	}
	root, err := cluster.RepoRoot()
	if err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(cache, "."+gitlabCILocal+"-install-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	for _, f := range []string{"package.json", "package-lock.json"} {
		b, err := os.ReadFile(filepath.Join(root, "testing", "tools", gitlabCILocal, f))
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(tmp, f), b, 0o644); err != nil {
			return "", err
		}
	}
	if log != nil {
		log("installing %s %s into %s (first use on this machine; cached afterwards)", gitlabCILocal, ver, dir)
	}
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts")
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("npm ci %s %s: %w\n%s", gitlabCILocal, ver, err, out)
	}
	// It must start: a newer release may need a newer node than this one.
	if out, err := exec.CommandContext(ctx, filepath.Join(tmp, "node_modules", ".bin", gitlabCILocal), "--version").CombinedOutput(); err != nil {
		return "", fmt.Errorf("%s %s does not run here: %w\n%.2000s", gitlabCILocal, ver, err, out)
	}
	_ = os.RemoveAll(dir)
	if err := os.Rename(tmp, dir); err != nil {
		return "", err
	}
	return bin, nil
}

func usable(bin string) bool {
	fi, err := os.Stat(bin)
	return err == nil && fi.Mode()&0o111 != 0
}
