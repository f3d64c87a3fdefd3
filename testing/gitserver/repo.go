package gitserver

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Repo is a bare repository on the server plus a working clone to commit from.
type Repo struct {
	Name   string
	bare   string
	work   string
	branch string
}

// CreateRepo makes an empty bare repository (default branch main) and a
// working clone of it.
func (s *Server) CreateRepo(name string) (*Repo, error) {
	r := &Repo{Name: name, bare: s.repoPath(name), work: filepath.Join(s.dir, "work", name), branch: "main"}
	if err := run("", "git", "init", "--quiet", "--bare", "--initial-branch=main", r.bare); err != nil {
		return nil, err
	}
	if err := run(r.bare, "git", "config", "http.receivepack", "true"); err != nil {
		return nil, err
	}
	if err := run("", "git", "init", "--quiet", "--initial-branch=main", r.work); err != nil {
		return nil, err
	}
	if err := run(r.work, "git", "remote", "add", "origin", r.bare); err != nil {
		return nil, err
	}
	return r, nil
}

// Dir is the working clone.
func (r *Repo) Dir() string { return r.work }

// Write creates or replaces files (paths relative to the repo root).
func (r *Repo) Write(files map[string]string) error {
	for name, content := range files {
		p := filepath.Join(r.work, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// CopyDir copies a directory tree into the repo root.
func (r *Repo) CopyDir(src string) error {
	return filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return r.Write(map[string]string{filepath.ToSlash(rel): string(b)})
	})
}

// Symlink creates a symlink in the working clone.
func (r *Repo) Symlink(target, name string) error {
	p := filepath.Join(r.work, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.Symlink(target, p)
}

// Remove deletes files or directories.
func (r *Repo) Remove(paths ...string) error {
	for _, p := range paths {
		if err := os.RemoveAll(filepath.Join(r.work, filepath.FromSlash(p))); err != nil {
			return err
		}
	}
	return nil
}

// Commit commits everything and pushes; it returns the new sha.
func (r *Repo) Commit(msg string) (string, error) {
	if err := run(r.work, "git", "add", "--all"); err != nil {
		return "", err
	}
	if err := run(r.work, "git", "commit", "--quiet", "--allow-empty", "-m", msg); err != nil {
		return "", err
	}
	if err := run(r.work, "git", "push", "--quiet", "origin", "HEAD:refs/heads/"+r.branch); err != nil {
		return "", err
	}
	return r.Head()
}

// Head is the working clone's HEAD sha.
func (r *Repo) Head() (string, error) {
	out, err := output(r.work, "git", "rev-parse", "HEAD")
	return strings.TrimSpace(out), err
}

// ResetHard moves the working branch to sha and force-pushes it.
func (r *Repo) ResetHard(sha string) error {
	if err := run(r.work, "git", "reset", "--quiet", "--hard", sha); err != nil {
		return err
	}
	return r.ForcePush()
}

// ForcePush pushes the working branch over whatever the server has.
func (r *Repo) ForcePush() error {
	return run(r.work, "git", "push", "--quiet", "--force", "origin", "HEAD:refs/heads/"+r.branch)
}

// DeleteBranch removes a branch from the server.
func (r *Repo) DeleteBranch(name string) error {
	return run(r.bare, "git", "branch", "-D", name)
}

// gitEnv fixes identities and dates so commits are reproducible.
var gitEnv = []string{
	"GIT_AUTHOR_NAME=syncgate-test", "GIT_AUTHOR_EMAIL=test@syncgate.invalid",
	"GIT_COMMITTER_NAME=syncgate-test", "GIT_COMMITTER_EMAIL=test@syncgate.invalid",
	"GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0",
}

func run(dir string, name string, args ...string) error {
	_, err := output(dir, name, args...)
	return err
}

func output(dir string, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), gitEnv...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}
