package gitsource

import (
	"context"
	"errors"
	"fmt"
	"strings"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage/memory"
)

// ErrBadRef: a ref FetchRef will not fetch (not under refs/, or not a
// valid ref name).
var ErrBadRef = errors.New("not a fetchable ref")

// previewRefs is where FetchRef keeps what it fetched, apart from the
// followed branch: refs/pull/12/head is kept as refs/previews/pull/12/head.
const previewRefs = "refs/previews/"

// FetchRef brings a commit that need not be on the followed branch into
// the clone, and returns its sha: a pull or merge request head
// ("refs/pull/12/head", "refs/merge-requests/7/head"), any other ref the
// remote advertises, or a full sha, which is fetched through a ref of the
// remote pointing at it when the clone lacks it. The followed branch, the
// head Sync returns and the commit graph are left as they are: the
// commit is readable with Tree, and nothing else knows it.
func (s *Source) FetchRef(ctx context.Context, ref string) (string, error) {
	ref = strings.TrimSpace(ref)
	sha := strings.ToLower(ref)
	isSHA := fullSHA.MatchString(sha)
	if isSHA {
		s.store.Lock()
		have := s.hasCommit(plumbing.NewHash(sha))
		s.store.Unlock()
		if have {
			return sha, nil
		}
	} else if err := validRef(ref); err != nil {
		return "", err
	}
	lister := git.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: "origin", URLs: []string{s.opts.URL}})
	lctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	refs, err := lister.ListContext(lctx, &git.ListOptions{Auth: s.auth})
	cancel()
	if err != nil && !errors.Is(err, transport.ErrEmptyRemoteRepository) {
		return "", s.unreachable("list refs of", err)
	}
	name := plumbing.ReferenceName(ref)
	var want plumbing.Hash
	for _, r := range refs {
		if r.Type() != plumbing.HashReference {
			continue
		}
		if isSHA && r.Hash().String() == sha && (name == plumbing.ReferenceName(ref) || preferred(r.Name())) {
			name, want = r.Name(), r.Hash()
		}
		if !isSHA && r.Name() == name {
			want = r.Hash()
		}
	}
	if want.IsZero() {
		if isSHA {
			return "", fmt.Errorf("%w: %s is on no ref of %s", ErrUnknownRevision, sha, s.display)
		}
		return "", fmt.Errorf("%w: %s is not on %s", ErrUnknownRevision, ref, s.display)
	}
	// A fetch leaves a pack: merged with the others past maxPacks, as
	// after Sync's fetches, once the store is released (compact takes it).
	// A Sync under way holds syncMu through its listing and fetch: the
	// preview does not wait for it, and the next fetch merges instead.
	fetched := false
	defer func() {
		if fetched && s.syncMu.TryLock() {
			defer s.syncMu.Unlock()
			s.compact()
		}
	}()
	s.store.Lock()
	defer s.store.Unlock()
	if s.hasCommit(want) {
		return want.String(), nil
	}
	remote, err := s.repo.Remote("origin")
	if err != nil {
		return "", fmt.Errorf("gitsource: %w", err)
	}
	local := previewRefs + strings.TrimPrefix(name.String(), "refs/")
	fctx, done, failed := s.fetching(ctx)
	defer done()
	err = remote.FetchContext(fctx, &git.FetchOptions{
		RefSpecs: []config.RefSpec{config.RefSpec("+" + name.String() + ":" + local)}, Auth: s.auth, Force: true, Tags: git.NoTags,
		Progress: s.received,
	})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		err = failed(err)
		return "", s.unreachable("fetch "+name.String()+" from", err)
	}
	fetched = true
	got, err := s.repo.Storer.Reference(plumbing.ReferenceName(local))
	if err != nil {
		return "", fmt.Errorf("gitsource: read %s after fetch: %w", local, err)
	}
	if isSHA && got.Hash() != want {
		return "", fmt.Errorf("%w: %s moved away from %s during the fetch", ErrUnknownRevision, name, sha)
	}
	if !s.hasCommit(got.Hash()) {
		return "", fmt.Errorf("gitsource: fetch of %s did not bring commit %s", name, got.Hash())
	}
	return got.Hash().String(), nil
}

// preferred refs are those a sha is best fetched through: a pull or merge
// request head, or a branch.
func preferred(n plumbing.ReferenceName) bool {
	s := n.String()
	return strings.HasPrefix(s, "refs/pull/") || strings.HasPrefix(s, "refs/merge-requests/") || n.IsBranch()
}

func validRef(ref string) error {
	if !strings.HasPrefix(ref, "refs/") || len(ref) > 255 || strings.Contains(ref, "..") || strings.ContainsAny(ref, " ~^:?*[\\\x7f") {
		return fmt.Errorf("%w: %q", ErrBadRef, ref)
	}
	for _, c := range ref {
		if c < 0x20 {
			return fmt.Errorf("%w: %q", ErrBadRef, ref)
		}
	}
	if strings.HasSuffix(ref, "/") || strings.HasSuffix(ref, ".lock") || strings.Contains(ref, "//") {
		return fmt.Errorf("%w: %q", ErrBadRef, ref)
	}
	return nil
}
