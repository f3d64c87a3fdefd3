package outbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/syncgate/syncgate/status"
	"github.com/syncgate/syncgate/status/outbox"
	"github.com/syncgate/syncgate/status/version"
)

const (
	shaA = "aaaaaaa0123456789abcdef0123456789abcdef0"
	shaB = "bbbbbbb0123456789abcdef0123456789abcdef0"
)

var t0 = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

// ledger keeps Version statuses in memory in their stored form, as the API
// server would: every read decodes what the last write encoded.
type ledger struct {
	mu sync.Mutex
	st map[string][]byte
}

func newLedger(nss ...string) *ledger {
	l := &ledger{st: map[string][]byte{}}
	for _, ns := range nss {
		l.st[ns] = []byte("{}")
	}
	return l
}

func (l *ledger) load(ns string) (*version.VersionStatus, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := &version.VersionStatus{}
	return st, json.Unmarshal(l.st[ns], st)
}

func (l *ledger) List(_ context.Context, ns string) ([]version.OwedReport, error) {
	st, err := l.load(ns)
	return st.Owed, err
}

func (l *ledger) Update(_ context.Context, ns string, fn func(*version.VersionStatus) error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := &version.VersionStatus{}
	if err := json.Unmarshal(l.st[ns], st); err != nil {
		return err
	}
	if err := fn(st); err != nil {
		return err
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	l.st[ns] = b
	return nil
}

// status is what the ledger holds for ns; a status it cannot read panics,
// failing the test.
func (l *ledger) status(ns string) *version.VersionStatus {
	st, err := l.load(ns)
	if err != nil {
		panic(err)
	}
	return st
}

func (l *ledger) owed(ns string) []version.OwedReport { return l.status(ns).Owed }

// record writes transitions the way the syncer does: in one status update.
func (l *ledger) record(t *testing.T, ns string, sinks []string, us ...status.Update) {
	t.Helper()
	require.NoError(t, l.Update(context.Background(), ns, func(st *version.VersionStatus) error {
		for _, u := range us {
			u.Namespace = ns
			outbox.Record(st, u, sinks)
		}
		return nil
	}))
}

// sink answers with scripted errors, then nil, and remembers every call.
type sink struct {
	name  string
	clock *testingclock.FakeClock

	mu      sync.Mutex
	script  []error
	calls   []call
	block   chan struct{} // when set, Report waits for it (or ctx) first
	entered chan struct{} // when set, told each time Report starts
}

type call struct {
	u  status.Update
	at time.Time
}

func (s *sink) Name() string { return s.name }

func (s *sink) Report(ctx context.Context, u status.Update) error {
	s.mu.Lock()
	block, entered := s.block, s.entered
	s.mu.Unlock()
	if entered != nil {
		entered <- struct{}{}
	}
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, call{u: u, at: s.clock.Now()})
	if len(s.script) == 0 {
		return nil
	}
	err := s.script[0]
	s.script = s.script[1:]
	return err
}

func (s *sink) then(errs ...error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, errs...)
}

func (s *sink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

func (s *sink) got() []call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]call(nil), s.calls...)
}

// start runs a deliverer until the test ends.
func start(t *testing.T, opts outbox.Options) *outbox.Deliverer {
	t.Helper()
	d, err := outbox.NewDeliverer(opts)
	require.NoError(t, err)
	run(t, d)
	return d
}

// run runs d until the test ends.
func run(t *testing.T, d *outbox.Deliverer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
}

// idle waits until cond holds and the deliverer sleeps on the fake clock,
// so a Step that follows is seen by it.
func idle(t *testing.T, fc *testingclock.FakeClock, cond func() bool, msgAndArgs ...any) {
	t.Helper()
	require.Eventually(t, func() bool { return cond() && fc.HasWaiters() }, 20*time.Second, 2*time.Millisecond, msgAndArgs...)
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
