package version

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A VersionStatus is stored in a compact form, so that the Version of a big
// namespace whose sinks are down stays far below etcd's 1.5 MiB object
// limit: 10,000 objects, 1,000 Deployments, 50 commits and 150 owed reports
// take 5.7 MiB in full and 367 KiB so (store_size_test.go).
//
//   - The inventory, most of the object, is stored gzipped (packedInventory):
//     kinds and names repeat. Its hashes stay whole: sync/apply skips an
//     object whose stored hash equals its desired state's whole 128-bit
//     one, and a shorter hash is one a commit's author could collide with.
//   - Deployment names are stored once (deploymentNames); history entries
//     and owed reports name theirs by position (deploymentRefs), so fifty
//     commits naming the same thousand Deployments store them once.
//   - An owed report that says what its commit's history entry says now
//     stores only its sink, sha, state and delivery record (asHistory); one
//     whose entry has moved on (progress, a new attempt) is stored in full.
//
// MarshalJSON writes that form, and UnmarshalJSON reads it and the full
// form Versions were written in before, so a Version from an older syncgate
// reads as it was and is stored compact by its next status write. In Go the
// stored-form fields are always empty, and nothing else changes: an owed
// report still carries its whole content, so sinks get what was recorded.

// plainStatus is VersionStatus without its JSON methods.
type plainStatus VersionStatus

// maxInventoryJSON bounds an unpacked inventory: a packed one that fits in
// an etcd object describes far fewer than this many bytes of entries.
const maxInventoryJSON = 64 << 20

// MarshalJSON writes the stored form.
func (st VersionStatus) MarshalJSON() ([]byte, error) {
	stored, err := st.stored()
	if err != nil {
		return nil, err
	}
	return json.Marshal((*plainStatus)(stored))
}

// UnmarshalJSON reads the stored form, or the full form of older Versions.
func (st *VersionStatus) UnmarshalJSON(b []byte) error {
	var p plainStatus
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	s := VersionStatus(p)
	if err := s.expand(); err != nil {
		return fmt.Errorf("status: %w", err)
	}
	*st = s
	return nil
}

// stored returns a copy of st in the stored form; st is left alone.
func (st VersionStatus) stored() (*VersionStatus, error) {
	out := st
	out.Inventory, out.PackedInventory = nil, nil
	if len(st.Inventory) > 0 {
		packed, err := invCache.pack(st.Inventory)
		if err != nil {
			return nil, err
		}
		out.PackedInventory = packed
	}
	names := nameTable{at: map[string]int{}}
	out.History = make([]Commit, len(st.History))
	for i, c := range st.History {
		c.DeploymentRefs, c.Deployments = names.refs(c.Deployments), nil
		out.History[i] = c
	}
	out.Owed = make([]OwedReport, len(st.Owed))
	for i, o := range st.Owed {
		if c := st.Find(o.SHA); c != nil && sameContent(o, c) {
			o = OwedReport{Sink: o.Sink, Cluster: o.Cluster, SHA: o.SHA, State: o.State, AsHistory: true,
				OvertakenBy: o.OvertakenBy, OvertakerOrigins: o.OvertakerOrigins, Ref: o.Ref, Attempts: o.Attempts, LastError: o.LastError, Permanent: o.Permanent}
		} else {
			o.DeploymentRefs, o.Deployments, o.AsHistory = names.refs(o.Deployments), nil, false
		}
		out.Owed[i] = o
	}
	out.DeploymentNames = names.list
	return &out, nil
}

// expand turns the stored form read into st into the Go form.
func (st *VersionStatus) expand() error {
	if len(st.PackedInventory) > 0 {
		inv, err := invCache.unpack(st.PackedInventory)
		if err != nil {
			return err
		}
		st.Inventory, st.PackedInventory = inv, nil
	}
	lists := map[DeploymentRefs][]string{} // entries naming the same Deployments share a slice
	resolve := func(refs DeploymentRefs) ([]string, error) {
		if l, ok := lists[refs]; ok {
			return l, nil
		}
		l, err := refs.resolve(st.DeploymentNames)
		if err != nil {
			return nil, err
		}
		lists[refs] = l
		return l, nil
	}
	for i := range st.History {
		c := &st.History[i]
		if c.DeploymentRefs == "" {
			continue
		}
		l, err := resolve(c.DeploymentRefs)
		if err != nil {
			return fmt.Errorf("history entry %s: %w", c.SHA, err)
		}
		c.Deployments, c.DeploymentRefs = l, ""
	}
	for i := range st.Owed {
		o := &st.Owed[i]
		switch {
		case o.AsHistory:
			c := st.Find(o.SHA)
			if c == nil || c.State != o.State {
				return fmt.Errorf("owed %s report of %s: stored asHistory, but no such history entry", o.State, o.SHA)
			}
			o.Reason, o.CarriedBy, o.Outcome, o.Ready, o.Total = c.Reason, c.CarriedBy, c.Outcome, c.Ready, c.Total
			o.BegunAt, o.AppliedAt, o.FinishedAt, o.Deployments = c.FetchedAt.DeepCopy(), c.AppliedAt.DeepCopy(), c.FinishedAt.DeepCopy(), c.Deployments
			o.Origins = c.Origins
			o.AsHistory = false
		case o.DeploymentRefs != "":
			l, err := resolve(o.DeploymentRefs)
			if err != nil {
				return fmt.Errorf("owed %s report of %s: %w", o.State, o.SHA, err)
			}
			o.Deployments, o.DeploymentRefs = l, ""
		}
	}
	st.DeploymentNames = nil
	return nil
}

// sameContent reports whether o says what the history entry c says now.
func sameContent(o OwedReport, c *Commit) bool {
	return o.State == c.State && o.Reason == c.Reason && o.CarriedBy == c.CarriedBy && o.Outcome == c.Outcome &&
		o.Ready == c.Ready && o.Total == c.Total && sameTime(o.BegunAt, c.FetchedAt) && sameTime(o.AppliedAt, c.AppliedAt) &&
		sameTime(o.FinishedAt, c.FinishedAt) && slices.Equal(o.Deployments, c.Deployments) && slices.Equal(o.Origins, c.Origins)
}

// sameTime compares as the stored form does: a zero time is stored as none.
func sameTime(a, b *metav1.Time) bool {
	if a.IsZero() || b.IsZero() {
		return a.IsZero() == b.IsZero()
	}
	return a.Equal(b)
}

// nameTable collects the Deployment names of one stored status.
type nameTable struct {
	list []string
	at   map[string]int
	// last is the list named last and its refs: most entries name the same
	// Deployments as the one before.
	last     []string
	lastRefs DeploymentRefs
}

// refs adds the names not yet listed and returns the positions of names.
func (t *nameTable) refs(names []string) DeploymentRefs {
	if len(names) == 0 {
		return ""
	}
	if slices.Equal(names, t.last) {
		return t.lastRefs
	}
	var b strings.Builder
	first, prev := -1, -1
	flush := func() {
		if first < 0 {
			return
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(first))
		if prev > first {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(prev))
		}
	}
	for _, n := range names {
		i, ok := t.at[n]
		if !ok {
			i = len(t.list)
			t.at[n] = i
			t.list = append(t.list, n)
		}
		if first >= 0 && i == prev+1 {
			prev = i
			continue
		}
		flush()
		first, prev = i, i
	}
	flush()
	t.last, t.lastRefs = names, DeploymentRefs(b.String())
	return t.lastRefs
}

// resolve returns the names at the positions r holds.
func (r DeploymentRefs) resolve(names []string) ([]string, error) {
	var out []string
	for _, run := range strings.Split(string(r), ",") {
		lo, hi, isRange := strings.Cut(run, "-")
		first, err := strconv.Atoi(lo)
		last := first
		if err == nil && isRange {
			last, err = strconv.Atoi(hi)
		}
		if err != nil || first < 0 || last < first || last >= len(names) {
			return nil, fmt.Errorf("deploymentRefs %q: bad run %q for %d deploymentNames", r, run, len(names))
		}
		out = append(out, names[first:last+1]...)
	}
	return slices.Clip(out), nil
}

func packInventory(inv []InventoryEntry) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(zw)
	zw.Reset(&buf)
	if err := json.NewEncoder(zw).Encode(inv); err != nil {
		return nil, fmt.Errorf("pack inventory: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("pack inventory: %w", err)
	}
	return buf.Bytes(), nil
}

func unpackInventory(packed []byte) ([]InventoryEntry, error) {
	zr, err := gzip.NewReader(bytes.NewReader(packed))
	if err != nil {
		return nil, fmt.Errorf("packedInventory: %w", err)
	}
	b, err := io.ReadAll(io.LimitReader(zr, maxInventoryJSON+1))
	if err == nil && len(b) > maxInventoryJSON {
		err = errors.New("more than 64 MiB unpacked")
	}
	if err != nil {
		return nil, fmt.Errorf("packedInventory: %w", err)
	}
	var inv []InventoryEntry
	if err := json.Unmarshal(b, &inv); err != nil {
		return nil, fmt.Errorf("packedInventory: %w", err)
	}
	return inv, nil
}
