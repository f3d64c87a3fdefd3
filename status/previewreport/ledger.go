package previewreport

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/outbox"
	"github.com/syncgate/syncgate/status/version"
	"github.com/syncgate/syncgate/sync/preview"
)

// CommentKey is the Ledger key of the per-cluster comment reports; the
// other keys are the managed namespaces, for their statuses.
const CommentKey = "~comments"

// dataKey is the ConfigMap entry holding the ledger.
const dataKey = "previews.json"

// MaxRequests bounds the requests kept unanswered.
const MaxRequests = 512

// book is what the ConfigMap holds.
type book struct {
	// Requests are not answered yet, one per pull request.
	Requests []preview.Request `json:"requests,omitempty"`
	// Owed are the reports owed, by key (namespace or CommentKey).
	Owed map[string][]version.OwedReport `json:"owed,omitempty"`
	// Heads say which pull request a head owing a comment belongs to.
	Heads map[string]preview.Request `json:"heads,omitempty"`
}

// Ledger keeps previews' owed reports and unanswered requests in one
// ConfigMap. It is an outbox.Ledger and a preview.Journal.
type Ledger struct {
	client          ConfigMaps
	namespace, name string

	// writes are the changes waiting for the next write, and writing says
	// a write is under way: this process writes one at a time, and the
	// changes that come meanwhile go together into the next
	// (ledger_write.go).
	queue   sync.Mutex
	writes  []*change
	writing bool

	mu    sync.Mutex
	heads map[string]preview.Request // last read, for Head
}

// conflictBackoff retries a write another replica raced for about 3 s,
// long enough for a burst of webhooks spread over the replicas.
var conflictBackoff = wait.Backoff{Steps: 12, Duration: 10 * time.Millisecond, Factor: 1.6, Jitter: 0.5, Cap: time.Second}

var (
	_ outbox.Ledger   = (*Ledger)(nil)
	_ preview.Journal = (*Ledger)(nil)
)

// ConfigMaps reads and writes the ConfigMaps of one namespace
// (coreclient's ConfigMaps, or client-go's typed client).
type ConfigMaps interface {
	Get(ctx context.Context, name string, opts metav1.GetOptions) (*corev1.ConfigMap, error)
	Create(ctx context.Context, cm *corev1.ConfigMap, opts metav1.CreateOptions) (*corev1.ConfigMap, error)
	Update(ctx context.Context, cm *corev1.ConfigMap, opts metav1.UpdateOptions) (*corev1.ConfigMap, error)
}

// NewLedger keeps the ledger in ConfigMap namespace/name, read and
// written with client, which holds namespace's ConfigMaps.
func NewLedger(client ConfigMaps, namespace, name string) *Ledger {
	return &Ledger{client: client, namespace: namespace, name: name, heads: map[string]preview.Request{}}
}

func (l *Ledger) read(ctx context.Context) (*book, *corev1.ConfigMap, error) {
	cm, err := l.client.Get(ctx, l.name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return &book{}, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("preview ledger %s/%s: %w", l.namespace, l.name, err)
	}
	b := &book{}
	if raw := cm.Data[dataKey]; raw != "" {
		if err := json.Unmarshal([]byte(raw), b); err != nil {
			return nil, nil, fmt.Errorf("preview ledger %s/%s: %w", l.namespace, l.name, err)
		}
	}
	l.mu.Lock()
	l.heads = b.Heads
	l.mu.Unlock()
	return b, cm, nil
}

// tidy drops heads no comment report needs any more.
func (b *book) tidy() {
	needed := map[string]bool{}
	for _, o := range b.Owed[CommentKey] {
		needed[o.SHA] = true
	}
	for sha := range b.Heads {
		if !needed[sha] {
			delete(b.Heads, sha)
		}
	}
	for k, v := range b.Owed {
		if len(v) == 0 {
			delete(b.Owed, k)
		}
	}
}

// List is the reports owed under key.
func (l *Ledger) List(ctx context.Context, key string) ([]version.OwedReport, error) {
	b, _, err := l.read(ctx)
	if err != nil {
		return nil, err
	}
	return b.Owed[key], nil
}

// Update changes the reports owed under key, as the outbox records their
// delivery.
func (l *Ledger) Update(ctx context.Context, key string, fn func(*version.VersionStatus) error) error {
	var ferr error
	err := l.modify(ctx, func(b *book) {
		st := &version.VersionStatus{Owed: b.Owed[key]}
		if ferr = fn(st); ferr == nil {
			if b.Owed == nil {
				b.Owed = map[string][]version.OwedReport{}
			}
			b.Owed[key] = st.Owed
		}
	})
	if ferr != nil {
		return ferr
	}
	return err
}

// Add keeps r until its reports are recorded; it replaces an older head of
// the same pull request.
func (l *Ledger) Add(ctx context.Context, r preview.Request) error {
	return l.modify(ctx, func(b *book) {
		b.Requests = slices.DeleteFunc(b.Requests, func(o preview.Request) bool { return o.Key() == r.Key() })
		b.Requests = append(b.Requests, r)
		if n := len(b.Requests) - MaxRequests; n > 0 {
			b.Requests = b.Requests[n:]
		}
	})
}

// Pending are the requests not answered yet.
func (l *Ledger) Pending(ctx context.Context) ([]preview.Request, error) {
	b, _, err := l.read(ctx)
	if err != nil {
		return nil, err
	}
	return b.Requests, nil
}

// Head is the pull request a head owing a comment belongs to, as last
// read or written.
func (l *Ledger) Head(ctx context.Context, sha string) (preview.Request, bool, error) {
	l.mu.Lock()
	r, ok := l.heads[sha]
	l.mu.Unlock()
	if ok {
		return r, true, nil
	}
	b, _, err := l.read(ctx)
	if err != nil {
		return preview.Request{}, false, err
	}
	r, ok = b.Heads[sha]
	return r, ok, nil
}

// Sinks are the names of the reporters previews owe reports to.
type Sinks struct {
	Statuses, Comments []string
}

// Record writes, in one update, the reports a preview owes and drops its
// request: a status per namespace, and for a pull request a comment,
// replacing the one an older head still owed.
func (l *Ledger) Record(ctx context.Context, cluster string, req preview.Request, res *preview.Result, sinks Sinks) error {
	return l.modify(ctx, func(b *book) {
		b.Requests = slices.DeleteFunc(b.Requests, func(o preview.Request) bool {
			return o.Key() == req.Key() && (o.SHA == "" || o.SHA == req.SHA || o.SHA == res.SHA)
		})
		if res.SHA == "" {
			return // nothing was fetched: there is no commit to report on
		}
		if b.Owed == nil {
			b.Owed = map[string][]version.OwedReport{}
		}
		for _, u := range Updates(cluster, res) {
			st := &version.VersionStatus{Owed: b.Owed[u.Namespace]}
			outbox.Record(st, u, sinks.Statuses)
			b.Owed[u.Namespace] = st.Owed
		}
		if req.Number == 0 || len(sinks.Comments) == 0 || res.State == preview.Refused && len(res.Namespaces) == 0 {
			return
		}
		if b.Heads == nil {
			b.Heads = map[string]preview.Request{}
		}
		// The comment shows the newest head: an older one still owed is
		// dropped.
		b.Owed[CommentKey] = slices.DeleteFunc(b.Owed[CommentKey], func(o version.OwedReport) bool {
			h, ok := b.Heads[o.SHA]
			return ok && h.Key() == req.Key()
		})
		r := req
		r.SHA = res.SHA
		b.Heads[res.SHA] = r
		st := &version.VersionStatus{Owed: b.Owed[CommentKey]}
		outbox.Record(st, status.Update{Cluster: cluster, Namespace: CommentKey, SHA: res.SHA, State: stateOf(res.State), Reason: res.State}, sinks.Comments)
		b.Owed[CommentKey] = st.Owed
	})
}
