package gitserver

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Identity of every commit a Repo makes.
const (
	AuthorName  = "syncgate-test"
	AuthorEmail = "test@syncgate.invalid"
)

// Epoch is the date of a repository's first commit; each further commit is
// a minute later, so the same steps give the same shas on every run while
// a commit repeated after a reset still gets a sha of its own.
var Epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// Repo is a bare repository on the server plus a working clone to commit
// from. Its methods are safe for concurrent use; they run one at a time.
type Repo struct {
	Name string

	bare, work string

	mu      sync.Mutex
	branch  string
	commits int
}

// CreateRepo makes an empty bare repository (default branch main) that
// accepts pushes over HTTP and SSH, and a working clone of it.
func (s *Server) CreateRepo(name string) (*Repo, error) {
	if name == "" || strings.Contains(name, "..") || strings.HasPrefix(name, "/") {
		return nil, fmt.Errorf("gitserver: bad repository name %q", name)
	}
	r := &Repo{Name: name, bare: s.RepoPath(name), work: filepath.Join(s.dir, "work", name), branch: "main"}
	if _, err := os.Stat(r.bare); err == nil {
		return nil, fmt.Errorf("gitserver: repository %q exists", name)
	}
	steps := [][]string{
		{"", "init", "--quiet", "--bare", "--initial-branch=main", r.bare},
		{r.bare, "config", "http.receivepack", "true"},
		{"", "init", "--quiet", "--initial-branch=main", r.work},
		{r.work, "remote", "add", "origin", r.bare},
	}
	for _, st := range steps {
		if _, err := git(st[0], nil, st[1:]...); err != nil {
			return nil, fmt.Errorf("gitserver: create %s: %w", name, err)
		}
	}
	return r, nil
}

// Dir is the working clone.
func (r *Repo) Dir() string { return r.work }

// BarePath is the bare repository the server serves.
func (r *Repo) BarePath() string { return r.bare }

// Branch is the branch Commit pushes to.
func (r *Repo) Branch() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.branch
}

// Write creates or replaces files, paths relative to the repo root.
func (r *Repo) Write(files map[string]string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.write(files)
}

func (r *Repo) write(files map[string]string) error {
	for name, content := range files {
		p, err := r.path(name)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("gitserver: %w", err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return fmt.Errorf("gitserver: %w", err)
		}
	}
	return nil
}

// path resolves a repo-relative name, refusing ones that leave the clone.
func (r *Repo) path(name string) (string, error) {
	clean := filepath.Clean(filepath.FromSlash(name))
	if !filepath.IsLocal(clean) || clean == ".git" || strings.HasPrefix(clean, ".git"+string(filepath.Separator)) {
		return "", fmt.Errorf("gitserver: path %q is outside the work tree", name)
	}
	return filepath.Join(r.work, clean), nil
}

// CopyDir copies a directory tree into the repo root.
func (r *Repo) CopyDir(src string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("gitserver: %w", err)
		}
		return r.write(map[string]string{filepath.ToSlash(rel): string(b)})
	})
}

// Symlink creates a symlink name pointing at target in the working clone.
func (r *Repo) Symlink(target, name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, err := r.path(name)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("gitserver: %w", err)
	}
	_ = os.Remove(p)
	if err := os.Symlink(target, p); err != nil {
		return fmt.Errorf("gitserver: %w", err)
	}
	return nil
}

// Remove deletes files or directories from the working clone.
func (r *Repo) Remove(paths ...string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, name := range paths {
		p, err := r.path(name)
		if err != nil {
			return err
		}
		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("gitserver: %w", err)
		}
	}
	return nil
}

// Commit commits everything in the working clone (an empty commit when
// nothing changed) and pushes it; it returns the new sha.
func (r *Repo) Commit(msg string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	sha, err := r.commit(msg)
	if err != nil {
		return "", err
	}
	return sha, r.push(false)
}

// CommitFiles writes files and commits and pushes them.
func (r *Repo) CommitFiles(msg string, files map[string]string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.write(files); err != nil {
		return "", err
	}
	sha, err := r.commit(msg)
	if err != nil {
		return "", err
	}
	return sha, r.push(false)
}

// CommitLocal commits without pushing; Push or ForcePush publishes it.
func (r *Repo) CommitLocal(msg string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.commit(msg)
}

func (r *Repo) commit(msg string) (string, error) {
	if _, err := git(r.work, nil, "add", "--all"); err != nil {
		return "", err
	}
	date := Epoch.Add(time.Duration(r.commits) * time.Minute).Format(time.RFC3339)
	env := []string{"GIT_AUTHOR_DATE=" + date, "GIT_COMMITTER_DATE=" + date}
	if _, err := git(r.work, env, "commit", "--quiet", "--allow-empty", "--no-verify", "-m", msg); err != nil {
		return "", err
	}
	r.commits++
	return r.head()
}

// Push publishes the working branch; the server refuses a non-fast-forward.
func (r *Repo) Push() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.push(false)
}

// ForcePush publishes the working branch over whatever the server has.
func (r *Repo) ForcePush() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.push(true)
}

func (r *Repo) push(force bool) error {
	args := []string{"push", "--quiet", "origin", "HEAD:refs/heads/" + r.branch}
	if force {
		args = append(args, "--force")
	}
	_, err := git(r.work, nil, args...)
	return err
}

// ResetHard moves the working branch to sha and force-pushes it.
func (r *Repo) ResetHard(sha string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := git(r.work, nil, "reset", "--quiet", "--hard", sha); err != nil {
		return err
	}
	return r.push(true)
}

// CreateBranch makes branch name on the server at sha (HEAD when empty).
func (r *Repo) CreateBranch(name, sha string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if sha == "" {
		var err error
		if sha, err = r.head(); err != nil {
			return err
		}
	}
	_, err := git(r.bare, nil, "update-ref", "refs/heads/"+name, sha, "")
	return err
}

// Checkout makes branch the one Commit pushes to: the server's branch when
// it has one, else a new branch at the working HEAD.
func (r *Repo) Checkout(branch string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	start := "HEAD"
	if _, err := r.serverHead(branch); err == nil {
		if _, err := git(r.work, nil, "fetch", "--quiet", "origin", "refs/heads/"+branch); err != nil {
			return err
		}
		start = "FETCH_HEAD"
	}
	if _, err := git(r.work, nil, "checkout", "--quiet", "-B", branch, start); err != nil {
		return err
	}
	r.branch = branch
	return nil
}

// DeleteBranch removes a branch from the server.
func (r *Repo) DeleteBranch(name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, err := git(r.bare, nil, "update-ref", "-d", "refs/heads/"+name)
	return err
}

// SetDefaultBranch points the server's HEAD at branch.
func (r *Repo) SetDefaultBranch(branch string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, err := git(r.bare, nil, "symbolic-ref", "HEAD", "refs/heads/"+branch)
	return err
}

// Head is the working clone's HEAD sha.
func (r *Repo) Head() (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.head()
}

func (r *Repo) head() (string, error) { return git(r.work, nil, "rev-parse", "HEAD") }

// ErrNoBranch is returned by ServerHead for a branch the server lacks.
var ErrNoBranch = errors.New("no such branch")

// ServerHead is the sha of branch on the server.
func (r *Repo) ServerHead(branch string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.serverHead(branch)
}

func (r *Repo) serverHead(branch string) (string, error) {
	out, err := git(r.bare, nil, "for-each-ref", "--format=%(objectname)", "refs/heads/"+branch)
	if err != nil {
		return "", err
	}
	if out == "" {
		return "", fmt.Errorf("gitserver: %s: %w %q", r.Name, ErrNoBranch, branch)
	}
	return out, nil
}

// gitEnv isolates the git command line from the machine's configuration
// and fixes the identity, so commits are reproducible.
var gitEnv = []string{
	"GIT_AUTHOR_NAME=" + AuthorName, "GIT_AUTHOR_EMAIL=" + AuthorEmail,
	"GIT_COMMITTER_NAME=" + AuthorName, "GIT_COMMITTER_EMAIL=" + AuthorEmail,
	"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=" + os.DevNull, "GIT_TERMINAL_PROMPT=0",
}

// git runs the git command line in dir and returns its trimmed stdout.
func git(dir string, env []string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), gitEnv...), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("gitserver: git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}
