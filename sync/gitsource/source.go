package gitsource

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/syncgate/syncgate/repourl"
)

// Errors callers act on, matched with errors.Is.
var (
	// ErrBranchGone: the followed branch is not on the remote (deleted,
	// renamed, or the repository is empty). The previous head stays.
	ErrBranchGone = errors.New("branch not found on the remote")
	// ErrUnreachable: the remote could not be listed or fetched (network,
	// authentication, host key). The cause is wrapped too.
	ErrUnreachable = errors.New("config repo unreachable")
	// ErrUnknownRevision: no commit of the followed branch has that sha.
	ErrUnknownRevision = errors.New("unknown revision")
	// ErrAmbiguousRevision: a prefix matches several commits.
	ErrAmbiguousRevision = errors.New("ambiguous revision")
)

// DefaultMaxFetch is Options.MaxFetch when not set: 4 GiB, twenty times
// the 204 MB pack of the big config repo benchmarked (bench/README.md).
const DefaultMaxFetch int64 = 4 << 30

// Options configure a Source.
type Options struct {
	// URL of the config repo: https://, http://, ssh://, scp-like
	// git@host:path, or file:// (and plain paths, for tests).
	URL string
	// Branch to follow; empty follows the branch the remote's HEAD names,
	// decided at the first successful Sync and kept afterwards.
	Branch string
	// CacheDir holds the bare clone, one sub-directory per URL.
	CacheDir string

	// Token is sent as the basic-auth password over HTTP(S). Username
	// defaults to the host's convention: x-access-token on GitHub, oauth2
	// on GitLab, git elsewhere.
	Token, Username string
	// SSHKeyPath is the private key for ssh URLs; KnownHostsPath verifies
	// the host. Unknown hosts are refused unless InsecureIgnoreHostKey.
	SSHKeyPath, KnownHostsPath string
	InsecureIgnoreHostKey      bool

	// Timeout bounds one listing of the remote's refs (default 2m).
	Timeout time.Duration
	// Stall ends a fetch that received nothing from the remote for this
	// long (default 2m); a fetch that keeps receiving is not cut, however
	// long it takes (the first clone of a big repository).
	Stall time.Duration
	// MaxFetch bounds the bytes one fetch may receive, counted from its
	// start (default 4 GiB; negative: unbounded). A fetch that receives
	// more is ended, its partial pack dropped, and the head kept.
	MaxFetch int64

	Logger *slog.Logger
}

// Source is the followed config repo. Its methods are safe for concurrent
// use: Sync may run while HTTP handlers ask ancestry questions and render
// reads trees.
type Source struct {
	opts    Options
	auth    transport.AuthMethod
	secrets []string
	display string // the URL without credentials
	log     *slog.Logger
	lister  *git.Remote // lists refs without touching the clone

	syncMu sync.Mutex // one Sync at a time

	// store serializes every use of the clone: go-git's filesystem storage
	// is not safe for concurrent use, not even by readers (pack files are
	// read through shared, seeking handles).
	store sync.Mutex
	repo  *git.Repository
	trees *treeCache

	mu     sync.RWMutex // guards branch, head, graph and what hangs off them
	branch string
	head   string
	graph  *graph

	ancestry ancestryCache
	commits  commitCache
	fetches  atomic.Int64
	received *intake // what fetches received, for Options.Stall
}

// New checks the options and opens (or creates) the local clone. It does
// not talk to the remote: Sync does.
func New(opts Options) (*Source, error) {
	if opts.URL == "" {
		return nil, errors.New("gitsource: URL is required")
	}
	if opts.CacheDir == "" {
		return nil, errors.New("gitsource: CacheDir is required")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Minute
	}
	if opts.Stall <= 0 {
		opts.Stall = 2 * time.Minute
	}
	if opts.MaxFetch == 0 {
		opts.MaxFetch = DefaultMaxFetch
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
	received := &intake{}
	repo, err := openClone(dir, received, opts.Logger)
	if err != nil {
		return nil, err
	}
	remote := &config.RemoteConfig{Name: "origin", URLs: []string{opts.URL}}
	if _, err := repo.Remote("origin"); errors.Is(err, git.ErrRemoteNotFound) {
		if _, err := repo.CreateRemote(remote); err != nil {
			return nil, fmt.Errorf("gitsource: configure clone in %s: %w", dir, err)
		}
	}
	return &Source{
		opts:    opts,
		auth:    auth,
		secrets: secretsOf(opts),
		display: repourl.Redact(opts.URL),
		log:     opts.Logger,
		lister:  git.NewRemote(memory.NewStorage(), remote),
		repo:    repo,
		trees:   newTreeCache(treeCacheBytes),
		branch:  opts.Branch,
		graph:   newGraph(),

		received: received,
	}, nil
}

// Fetches counts the fetches made (listings not included).
func (s *Source) Fetches() int64 { return s.fetches.Load() }

// Head is the head of the followed branch at the last successful Sync.
func (s *Source) Head() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.head
}

// Branch is the followed branch; when Options.Branch is empty it is known
// after the first successful Sync.
func (s *Source) Branch() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.branch
}

// Sync lists the remote's refs and fetches only when the followed branch
// points at a commit the clone does not have; a force-push is followed like
// any other move. It returns the branch head. On error the previous head is
// returned and kept: ErrBranchGone when the branch is not on the remote,
// ErrUnreachable (wrapping the cause) when the remote cannot be reached.
func (s *Source) Sync(ctx context.Context) (string, error) {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	prev := s.Head()

	lctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	refs, err := s.lister.ListContext(lctx, &git.ListOptions{Auth: s.auth})
	cancel()
	branch := s.Branch()
	if errors.Is(err, transport.ErrEmptyRemoteRepository) {
		if branch == "" {
			return prev, fmt.Errorf("%w: %s has no branches", ErrBranchGone, s.display)
		}
		return prev, fmt.Errorf("%w: %q (%s has no branches)", ErrBranchGone, branch, s.display)
	}
	if err != nil {
		return prev, s.unreachable("list refs of", err)
	}
	if branch == "" {
		if branch = remoteHEAD(refs); branch == "" {
			return prev, fmt.Errorf("%w: the remote HEAD of %s names no branch; set the branch to follow", ErrBranchGone, s.display)
		}
	}
	want := branchHash(refs, branch)
	if want.IsZero() {
		return prev, fmt.Errorf("%w: %q is not on %s", ErrBranchGone, branch, s.display)
	}
	if want.String() == prev {
		return prev, nil
	}

	start := time.Now()
	head, fetched, err := s.update(ctx, branch, want)
	if fetched {
		defer s.compact() // after the head moved, still under syncMu
	}
	if err != nil {
		return prev, err
	}
	if err := s.advance(branch, head); err != nil {
		return prev, err
	}
	s.trees.turn()
	s.log.Info("config repo head moved", "branch", branch, "sha", head.String(), "previous", prev,
		"fetched", fetched, "duration", time.Since(start).Round(time.Millisecond))
	return head.String(), nil
}

// update brings want into the clone, fetching only when it is missing, and
// points the remote-tracking ref at the head. The head is what the fetch
// brought, which may be newer than want when the branch moved meanwhile.
func (s *Source) update(ctx context.Context, branch string, want plumbing.Hash) (plumbing.Hash, bool, error) {
	s.store.Lock()
	defer s.store.Unlock()
	tracking := plumbing.NewRemoteReferenceName("origin", branch)
	if s.hasCommit(want) {
		if err := s.repo.Storer.SetReference(plumbing.NewHashReference(tracking, want)); err != nil {
			return plumbing.ZeroHash, false, fmt.Errorf("gitsource: update %s: %w", tracking, err)
		}
		return want, false, nil
	}
	remote, err := s.repo.Remote("origin")
	if err != nil {
		return plumbing.ZeroHash, false, fmt.Errorf("gitsource: %w", err)
	}
	s.fetches.Add(1)
	fctx, done, failed := s.fetching(ctx)
	defer done()
	spec := config.RefSpec(fmt.Sprintf("+refs/heads/%s:%s", branch, tracking))
	err = remote.FetchContext(fctx, &git.FetchOptions{
		RefSpecs: []config.RefSpec{spec}, Auth: s.auth, Force: true, Tags: git.NoTags, Progress: s.received,
	})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		err = failed(err)
		if errors.Is(err, git.NoMatchingRefSpecError{}) {
			return plumbing.ZeroHash, true, fmt.Errorf("%w: %q vanished from %s during the fetch", ErrBranchGone, branch, s.display)
		}
		return plumbing.ZeroHash, true, s.unreachable("fetch "+branch+" from", err)
	}
	ref, err := s.repo.Storer.Reference(tracking)
	if err != nil {
		return plumbing.ZeroHash, true, fmt.Errorf("gitsource: read %s after fetch: %w", tracking, err)
	}
	if !s.hasCommit(ref.Hash()) {
		return plumbing.ZeroHash, true, fmt.Errorf("gitsource: fetch of %s did not bring commit %s", branch, ref.Hash())
	}
	return ref.Hash(), true, nil
}

// hasCommit needs s.store held.
func (s *Source) hasCommit(h plumbing.Hash) bool {
	_, err := s.repo.Storer.EncodedObject(plumbing.CommitObject, h)
	return err == nil
}

func (s *Source) unreachable(op string, err error) error {
	return fmt.Errorf("%w: %s %s: %w", ErrUnreachable, op, s.display, redact(err, s.secrets))
}

// remoteHEAD is the branch the remote's HEAD names: the advertised symref,
// or for servers that do not advertise it, the one branch HEAD points at.
func remoteHEAD(refs []*plumbing.Reference) string {
	var head plumbing.Hash
	for _, r := range refs {
		if r.Name() != plumbing.HEAD {
			continue
		}
		if r.Type() == plumbing.SymbolicReference && r.Target().IsBranch() {
			return r.Target().Short()
		}
		head = r.Hash()
	}
	if head.IsZero() {
		return ""
	}
	found := ""
	for _, r := range refs {
		if r.Name().IsBranch() && r.Hash() == head {
			if found != "" {
				return "" // several branches point there: no guessing
			}
			found = r.Name().Short()
		}
	}
	return found
}

func branchHash(refs []*plumbing.Reference, branch string) plumbing.Hash {
	name := plumbing.NewBranchReferenceName(branch)
	for _, r := range refs {
		if r.Name() == name && r.Type() == plumbing.HashReference {
			return r.Hash()
		}
	}
	return plumbing.ZeroHash
}

// Tree is a read-only view of a commit's files, read from the object store
// (nothing is checked out). It implements fs.ReadFileFS and fs.ReadDirFS;
// directory entries come in name order. Symlinks are followed inside the
// repository; one that leaves it is an error (ErrSymlinkEscape) naming it,
// and following them costs each Tree at most MaxLinkSteps lookups (its git
// trees, MaxTreeBytes; LimitTreeBytes sets another bound): take a
// Tree for each namespace rendered (cheap: a commit read, the trees under
// it cached by hash), so that namespaces do not share that bound.
func (s *Source) Tree(sha string) (fs.FS, error) {
	h, ok := parseHash(sha)
	if !ok {
		return nil, fmt.Errorf("%w: %q is not a full sha", ErrUnknownRevision, sha)
	}
	s.store.Lock()
	c, err := object.GetCommit(s.repo.Storer, h)
	s.store.Unlock()
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrUnknownRevision, sha)
	}
	if err != nil {
		return nil, fmt.Errorf("gitsource: read commit %s: %w", sha, err)
	}
	t := &treeFS{src: s, root: c.TreeHash}
	t.trees.max = MaxTreeBytes
	return t, nil
}
