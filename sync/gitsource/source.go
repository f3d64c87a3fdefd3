package gitsource

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"golang.org/x/crypto/ssh"
)

// Errors callers act on.
var (
	ErrBranchGone        = errors.New("branch not found on the remote")
	ErrUnreachable       = errors.New("config repo unreachable")
	ErrUnknownRevision   = errors.New("unknown revision")
	ErrAmbiguousRevision = errors.New("ambiguous revision")
)

// Options configure a Source.
type Options struct {
	URL    string
	Branch string // empty: the remote's HEAD
	// CacheDir holds the clone; one sub-directory per URL.
	CacheDir string

	Token, Username            string
	SSHKeyPath, KnownHostsPath string
	InsecureIgnoreHostKey      bool

	Logger *slog.Logger
}

// Source is the followed config repo.
type Source struct {
	opts Options
	auth transport.AuthMethod
	log  *slog.Logger

	mu        sync.RWMutex
	repo      *git.Repository
	branch    string
	head      string
	reachable map[string]struct{} // every commit reachable from head

	fetches atomic.Int64
}

// New checks the options and opens (or creates) the local clone.
func New(opts Options) (*Source, error) {
	if opts.URL == "" {
		return nil, errors.New("gitsource: URL is required")
	}
	if opts.CacheDir == "" {
		return nil, errors.New("gitsource: CacheDir is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	auth, err := authFor(opts)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(opts.URL))
	dir := filepath.Join(opts.CacheDir, "repo-"+hex.EncodeToString(sum[:8]))
	repo, err := git.PlainOpen(dir)
	if errors.Is(err, git.ErrRepositoryNotExists) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		repo, err = git.PlainInit(dir, true)
	}
	if err != nil {
		return nil, fmt.Errorf("open clone in %s: %w", dir, err)
	}
	if _, err := repo.Remote("origin"); errors.Is(err, git.ErrRemoteNotFound) {
		_, err = repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{opts.URL}})
		if err != nil {
			return nil, err
		}
	}
	return &Source{opts: opts, auth: auth, log: opts.Logger, repo: repo, branch: opts.Branch}, nil
}

var scpLike = regexp.MustCompile(`^([A-Za-z0-9._-]+)@([A-Za-z0-9.-]+):(.*)$`)

func authFor(opts Options) (transport.AuthMethod, error) {
	u := opts.URL
	isSSH := strings.HasPrefix(u, "ssh://") || scpLike.MatchString(u)
	if !isSSH {
		if opts.Token == "" {
			return nil, nil
		}
		user := opts.Username
		if user == "" {
			user = defaultUser(u)
		}
		return &githttp.BasicAuth{Username: user, Password: opts.Token}, nil
	}
	if opts.SSHKeyPath == "" {
		return nil, errors.New("gitsource: an ssh URL needs an SSH key (GIT_SSH_KEY)")
	}
	user := "git"
	if m := scpLike.FindStringSubmatch(u); m != nil {
		user = m[1]
	} else if p, err := url.Parse(u); err == nil && p.User != nil {
		user = p.User.Username()
	}
	keys, err := gitssh.NewPublicKeysFromFile(user, opts.SSHKeyPath, "")
	if err != nil {
		return nil, fmt.Errorf("gitsource: ssh key %s: %w", opts.SSHKeyPath, err)
	}
	switch {
	case opts.InsecureIgnoreHostKey:
		keys.HostKeyCallback = ssh.InsecureIgnoreHostKey() //nolint:gosec // explicitly asked for
	case opts.KnownHostsPath != "":
		cb, err := gitssh.NewKnownHostsCallback(opts.KnownHostsPath)
		if err != nil {
			return nil, fmt.Errorf("gitsource: known_hosts %s: %w", opts.KnownHostsPath, err)
		}
		keys.HostKeyCallback = cb
	default:
		return nil, errors.New("gitsource: an ssh URL needs a known_hosts file (GIT_KNOWN_HOSTS) to verify the host")
	}
	return keys, nil
}

// defaultUser follows each provider's convention for token auth.
func defaultUser(u string) string {
	switch {
	case strings.Contains(u, "gitlab"):
		return "oauth2"
	case strings.Contains(u, "github"):
		return "x-access-token"
	}
	return "git"
}

// Fetches counts the fetches made, for tests and metrics.
func (s *Source) Fetches() int64 { return s.fetches.Load() }

// Head is the last fetched head of the followed branch.
func (s *Source) Head() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.head
}

// Branch is the followed branch, known after the first Sync.
func (s *Source) Branch() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.branch
}

// Sync asks the remote for the branch head and fetches only when it moved
// (force-pushes included). On error the previous head stays.
func (s *Source) Sync(ctx context.Context) (string, error) {
	remote, err := s.repo.Remote("origin")
	if err != nil {
		return s.Head(), err
	}
	refs, err := remote.ListContext(ctx, &git.ListOptions{Auth: s.auth})
	if err != nil {
		if errors.Is(err, transport.ErrEmptyRemoteRepository) {
			return s.Head(), fmt.Errorf("%w: the remote repository is empty", ErrBranchGone)
		}
		return s.Head(), fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	branch := s.Branch()
	if branch == "" {
		branch = remoteHEAD(refs)
		if branch == "" {
			return s.Head(), fmt.Errorf("%w: the remote has no HEAD; set CONFIG_BRANCH", ErrBranchGone)
		}
	}
	var want plumbing.Hash
	for _, r := range refs {
		if r.Name() == plumbing.NewBranchReferenceName(branch) {
			want = r.Hash()
		}
	}
	if want.IsZero() {
		return s.Head(), fmt.Errorf("%w: %q", ErrBranchGone, branch)
	}
	if want.String() == s.Head() {
		return s.Head(), nil
	}
	if _, err := s.repo.CommitObject(want); err != nil {
		s.fetches.Add(1)
		spec := config.RefSpec(fmt.Sprintf("+refs/heads/%s:refs/remotes/origin/%s", branch, branch))
		err := remote.FetchContext(ctx, &git.FetchOptions{RefSpecs: []config.RefSpec{spec}, Auth: s.auth, Force: true, Tags: git.NoTags})
		if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
			return s.Head(), fmt.Errorf("%w: fetch %s: %v", ErrUnreachable, branch, err)
		}
	}
	reach, err := s.reachableFrom(want)
	if err != nil {
		return s.Head(), fmt.Errorf("walk history of %s: %w", want, err)
	}
	s.mu.Lock()
	if s.head != want.String() {
		s.log.Info("config repo head moved", "branch", branch, "sha", want.String(), "previous", s.head)
	}
	s.branch, s.head, s.reachable = branch, want.String(), reach
	s.mu.Unlock()
	return want.String(), nil
}

func remoteHEAD(refs []*plumbing.Reference) string {
	for _, r := range refs {
		if r.Name() == plumbing.HEAD && r.Type() == plumbing.SymbolicReference {
			return r.Target().Short()
		}
	}
	// Servers that do not advertise the symref: the branch HEAD points at.
	var head plumbing.Hash
	for _, r := range refs {
		if r.Name() == plumbing.HEAD {
			head = r.Hash()
		}
	}
	for _, r := range refs {
		if r.Name().IsBranch() && r.Hash() == head && !head.IsZero() {
			return r.Name().Short()
		}
	}
	return ""
}

func (s *Source) reachableFrom(h plumbing.Hash) (map[string]struct{}, error) {
	c, err := s.repo.CommitObject(h)
	if err != nil {
		return nil, err
	}
	seen := map[string]struct{}{}
	iter := object.NewCommitPreorderIter(c, nil, nil)
	err = iter.ForEach(func(c *object.Commit) error {
		seen[c.Hash.String()] = struct{}{}
		return nil
	})
	return seen, err
}

var hexRE = regexp.MustCompile(`^[0-9a-f]{7,40}$`)

// Resolve turns a 7–40 character prefix into the full sha of a commit on
// the followed branch.
func (s *Source) Resolve(prefix string) (string, error) {
	prefix = strings.ToLower(prefix)
	if !hexRE.MatchString(prefix) {
		return "", fmt.Errorf("%w: %q is not 7 to 40 hex characters", ErrUnknownRevision, prefix)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(prefix) == 40 {
		if _, ok := s.reachable[prefix]; ok {
			return prefix, nil
		}
		return "", fmt.Errorf("%w: %s", ErrUnknownRevision, prefix)
	}
	return resolvePrefix(s.reachable, prefix)
}

func resolvePrefix(set map[string]struct{}, prefix string) (string, error) {
	found := ""
	for sha := range set {
		if strings.HasPrefix(sha, prefix) {
			if found != "" {
				return "", fmt.Errorf("%w: %s matches %s and %s", ErrAmbiguousRevision, prefix, found[:12], sha[:12])
			}
			found = sha
		}
	}
	if found == "" {
		return "", fmt.Errorf("%w: %s", ErrUnknownRevision, prefix)
	}
	return found, nil
}

// OnBranch reports whether sha is the branch head or one of its ancestors.
func (s *Source) OnBranch(sha string) (bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.reachable[sha]
	return ok, nil
}

// IsAncestor reports whether a is b or an ancestor of b.
func (s *Source) IsAncestor(a, b string) (bool, error) {
	if a == b {
		return true, nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if b == s.head {
		_, ok := s.reachable[a]
		return ok, nil
	}
	ca, err := s.repo.CommitObject(plumbing.NewHash(a))
	if err != nil {
		return false, fmt.Errorf("%w: %s", ErrUnknownRevision, a)
	}
	cb, err := s.repo.CommitObject(plumbing.NewHash(b))
	if err != nil {
		return false, fmt.Errorf("%w: %s", ErrUnknownRevision, b)
	}
	return ca.IsAncestor(cb)
}

// Commits lists the first-parent chain after since up to and including
// until, oldest first, at most 100.
func (s *Source) Commits(since, until string) ([]string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, err := s.repo.CommitObject(plumbing.NewHash(until))
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrUnknownRevision, until)
	}
	var out []string
	for len(out) < 100 {
		if c.Hash.String() == since {
			break
		}
		out = append(out, c.Hash.String())
		if c.NumParents() == 0 {
			break
		}
		if c, err = c.Parent(0); err != nil {
			return nil, err
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// Tree is a read-only view of a commit's files.
func (s *Source) Tree(sha string) (fs.FS, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, err := s.repo.CommitObject(plumbing.NewHash(sha))
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrUnknownRevision, sha)
	}
	t, err := c.Tree()
	if err != nil {
		return nil, err
	}
	return &treeFS{root: t, storer: s.repo.Storer}, nil
}
