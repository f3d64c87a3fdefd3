package deployment

import (
	"context"
	"fmt"
	"sync"

	"github.com/syncgate/syncgate/status"
)

// Optional is a deployment sink that is on only while the forge lets the
// credentials make deployments: DEPLOYMENTS left to its default is on when
// commit statuses are and the token may. The first refusal that says the
// token may not (denied tells which) turns it off for this process's life:
// that report ends with the refusal, which the outbox shows in the
// Reporting condition, and each later one ends with it too without asking
// the forge again. Any other outcome is the sink's own.
type Optional struct {
	sink   status.Reporter
	denied func(error) bool

	mu  sync.Mutex
	off error // the refusal that turned deployments off
}

var _ status.Keeper = (*Optional)(nil)

// NewOptional wraps sink; denied says which of its errors mean the
// credentials may not make deployments at all.
func NewOptional(sink status.Reporter, denied func(error) bool) *Optional {
	return &Optional{sink: sink, denied: denied}
}

// Name is the sink's.
func (o *Optional) Name() string { return o.sink.Name() }

// Off is the refusal that turned deployments off, or nil while they are on.
func (o *Optional) Off() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.off
}

// Report passes u to the sink while deployments are on.
func (o *Optional) Report(ctx context.Context, u status.Update) error {
	_, err := o.ReportKept(ctx, u)
	return err
}

// ReportKept passes u to the sink while deployments are on, and returns
// what the sink keeps of the commit when it is a status.Keeper.
func (o *Optional) ReportKept(ctx context.Context, u status.Update) (string, error) {
	if off := o.Off(); off != nil {
		return "", off
	}
	var ref string
	var err error
	if k, ok := o.sink.(status.Keeper); ok {
		ref, err = k.ReportKept(ctx, u)
	} else {
		err = o.sink.Report(ctx, u)
	}
	if err == nil || !status.IsPermanent(err) || !o.denied(err) {
		return ref, err
	}
	off := status.Permanent(fmt.Errorf("deployments off (DEPLOYMENTS unset: on only where the token may make them; set DEPLOYMENTS=off to say so, or widen the token): %w", err))
	o.mu.Lock()
	if o.off == nil {
		o.off = off
	}
	off = o.off
	o.mu.Unlock()
	return "", off
}
