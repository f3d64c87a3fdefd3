package origin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/syncgate/syncgate/repourl"
	"github.com/syncgate/syncgate/status"
)

// Forge reaches the repositories of one forge with its credentials.
type Forge struct {
	// Name is the forge as people name it: "GitHub", "GitLab".
	Name string
	// Hosts are the hosts whose repositories it reaches; "" stands for
	// owner/name written without a host (the config repo's forge).
	Hosts []string
	// Post reports u on commit sha of project (owner/name,
	// group/sub/project): the commit status and the deployment.
	Post func(ctx context.Context, project, sha string, u status.Update) error
}

// Sink is the name of the sink in owed reports.
const Sink = "origin"

// Reporter reports each transition to the application commits its update
// names (status.Update.Origins).
type Reporter struct {
	forges []Forge

	mu      sync.Mutex
	refused map[string]error // repository → its refusal, for this process's life
}

var _ status.Reporter = (*Reporter)(nil)

// New takes the forges origins may be on.
func New(forges ...Forge) (*Reporter, error) {
	for _, f := range forges {
		if f.Post == nil || f.Name == "" {
			return nil, errors.New("origin: each forge needs a name and a Post")
		}
	}
	return &Reporter{forges: forges, refused: map[string]error{}}, nil
}

// Name of the sink.
func (r *Reporter) Name() string { return Sink }

// Report posts u to each origin. An origin that cannot be reached for good
// (no forge for its host, or the forge refuses: no access, unknown repo or
// commit) is remembered and not asked again while this process lives; the
// report then ends Permanent, naming it, after the others were posted. A
// transient failure of any origin makes the whole report be retried: the
// posts already made are skipped then, as every sink skips a replay.
func (r *Reporter) Report(ctx context.Context, u status.Update) error {
	if u.Held() || len(u.Origins) == 0 {
		return nil
	}
	var transient, refused []error
	for _, s := range u.Origins {
		ref, err := ParseRef(s)
		if err != nil {
			refused = append(refused, err)
			continue
		}
		key := ref.key()
		r.mu.Lock()
		prior := r.refused[key]
		r.mu.Unlock()
		if prior != nil {
			refused = append(refused, prior)
			continue
		}
		err = r.post(ctx, ref, overtakenOn(u, ref))
		switch {
		case err == nil:
		case status.IsPermanent(err):
			err = fmt.Errorf("%s: %w", repourl.Redact(ref.Repo), err)
			r.mu.Lock()
			r.refused[key] = err
			r.mu.Unlock()
			refused = append(refused, err)
		default:
			transient = append(transient, err)
		}
	}
	if len(transient) > 0 {
		return retryAfterAll(transient)
	}
	if len(refused) > 0 {
		return status.Permanent(fmt.Errorf("application commit not reported: %w", errors.Join(refused...)))
	}
	return nil
}

// overtakenOn is u as the application repo of ref sees it: an own success
// overtaken by a newer commit's (status.Update.OvertakenBy) leaves the
// environment to it only on the repos the newer commit names, where its
// success went; elsewhere u's commit is still the latest to deploy.
func overtakenOn(u status.Update, ref Ref) status.Update {
	if u.OvertakenBy == "" {
		return u
	}
	for _, s := range u.OvertakerOrigins {
		if o, err := ParseRef(s); err == nil && o.key() == ref.key() {
			return u
		}
	}
	u.OvertakenBy, u.OvertakerOrigins = "", nil
	return u
}

func (r *Reporter) post(ctx context.Context, ref Ref, u status.Update) error {
	host := ref.Host()
	for _, f := range r.forges {
		if slices.Contains(f.Hosts, host) {
			return f.Post(ctx, ref.Project(), ref.SHA, u)
		}
	}
	if host == "" {
		return status.Permanent(errors.New("owner/name needs the config repo on GitHub or GitLab with credentials; write the repo's URL"))
	}
	return status.Permanent(fmt.Errorf("no GitHub or GitLab credentials reach %s (GITHUB_API_URL, GITLAB_URL)", host))
}

// retryAfterAll joins transient failures, keeping the longest delay a
// forge asked for, so the report is not tried before the slowest allows.
func retryAfterAll(errs []error) error {
	err := errors.Join(errs...)
	longest, found := time.Duration(0), false
	for _, e := range errs {
		if d, ok := status.RetryAfterOf(e); ok && d >= longest {
			longest, found = d, true
		}
	}
	if found {
		return status.RetryAfter(err, longest)
	}
	return err
}
