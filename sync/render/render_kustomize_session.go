package render

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os/exec"
	"path"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"

	"github.com/syncgate/syncgate/sync/render/internal/sandbox"
	"github.com/syncgate/syncgate/sync/render/internal/wire"
)

// session is one build seen from the parent: what it read, what it
// returned, and the first refusal.
type session struct {
	r     *Renderer
	b     *budget
	kfile string
	proc  *process

	served  []string // files the build read, in order
	objects []object
	source  []byte // the YAML of the object to come (wire.Source)
	bytes   int64

	// refusal is the first refusal of what the build read or returned; it
	// fails the build whatever kustomize made of it. trouble is the first
	// other problem, reported when the build fails.
	refusal, trouble error
	fetched          string // the first URL the build tried to fetch
	failure          string // kustomize's error
	done             bool
}

// watch kills the build when ctx ends or the build runs out of time.
func (s *session) watch(ctx context.Context) (stop func()) {
	done := ctx.Done()
	timer := time.NewTimer(s.r.opts.Limits.BuildWallTime)
	over := make(chan struct{})
	go func() {
		defer timer.Stop()
		select {
		case <-done:
			s.proc.kill("canceled")
		case <-timer.C:
			s.proc.kill("timeout")
		case <-over:
		}
	}()
	return func() { close(over) }
}

// serve answers the build's requests until it ends, is killed, or is
// refused (then it is killed).
func (s *session) serve(dir string) error {
	c := s.proc.conn
	if err := c.Send(wire.Build, []byte(dir)); err != nil {
		return err
	}
	max := func(typ byte) int64 {
		if typ == wire.Object || typ == wire.Source {
			return s.r.opts.Limits.RenderBytes - s.bytes
		}
		return wire.MaxRequest
	}
	for s.refusal == nil {
		typ, payload, err := c.Read(max)
		if errors.Is(err, wire.ErrFrameTooLarge) && (typ == wire.Object || typ == wire.Source) {
			s.refuse(fileErr(s.kfile, because(ErrTooLarge, "the build renders more than the limit of %d bytes", s.r.opts.Limits.RenderBytes)))
			break
		}
		if err != nil {
			return err
		}
		switch typ {
		case wire.List:
			err = s.list(string(payload))
		case wire.Read:
			err = s.read(string(payload))
		case wire.Object:
			s.object(payload)
		case wire.Source:
			s.bytes += int64(len(payload))
			s.source = payload
		case wire.Fetch:
			if s.fetched == "" {
				s.fetched = string(payload)
			}
		case wire.Failed:
			s.failure = string(payload)
			return nil
		case wire.Done:
			s.done = true
			return nil
		default:
			return fmt.Errorf("build process: unknown frame %q", typ)
		}
		if err != nil {
			return err
		}
	}
	s.proc.kill("refused")
	return nil
}

func (s *session) refuse(err error) {
	if s.refusal == nil {
		s.refusal = err
	}
}

func (s *session) list(dir string) error {
	file := rel(wire.Clean(dir))
	entries, err := s.b.list(file)
	switch {
	case errors.Is(err, ErrTooMany):
		s.refuse(err)
	case err != nil && s.trouble == nil:
		s.trouble = err
	}
	if err != nil {
		return s.fail(err)
	}
	out := make([]wire.Entry, len(entries))
	for i, e := range entries {
		out[i] = wire.Entry{Name: e.Name(), Dir: e.IsDir()}
	}
	j, err := json.Marshal(out)
	if err != nil {
		return err
	}
	return s.proc.conn.Send(wire.Entries, j)
}

func (s *session) read(p string) error {
	file := rel(wire.Clean(p))
	data, err := s.b.readForBuild(file)
	if err == nil && isKustomization(path.Base(file)) {
		err = refuseRemote(file, data)
	}
	if err != nil {
		s.refuse(err)
		return s.fail(err)
	}
	if len(s.served) == 0 || s.served[len(s.served)-1] != file {
		s.served = append(s.served, file)
	}
	return s.proc.conn.Send(wire.Data, data)
}

// fail answers a request with err.
func (s *session) fail(err error) error {
	j, _ := json.Marshal(wire.Failure{Missing: errors.Is(err, fs.ErrNotExist), Msg: err.Error()})
	return s.proc.conn.Send(wire.Error, j)
}

// object takes one resource the build made.
func (s *session) object(j []byte) {
	src := s.source // sent just before, or nil
	s.source = nil
	s.bytes += int64(len(j))
	where := fmt.Sprintf("resource %d of the build", len(s.objects)+1)
	if err := s.b.decodes(s.kfile, where, j); err != nil {
		s.refuse(err)
		return
	}
	var m map[string]any
	if err := utiljson.Unmarshal(j, &m); err != nil {
		s.refuse(fileErr(s.kfile, because(ErrBuild, "%s: %v", where, err)))
		return
	}
	u := &unstructured.Unstructured{Object: m}
	if err := check(s.kfile, where, u); err != nil {
		s.refuse(err)
		return
	}
	if err := s.b.produced(s.kfile, u); err != nil {
		s.refuse(err)
		return
	}
	o := object{obj: u, file: s.kfile}
	if sealed(u) {
		o.source = src
	}
	s.objects = append(s.objects, o)
}

// verdict decides the build's outcome: first a refusal of what it read or
// returned, then its being stopped, a fetch, kustomize's own error, and
// last how the process ended.
func (s *session) verdict(ctx context.Context, serveErr, exit error) ([]object, error) {
	lim := s.r.opts.Limits
	switch reason := s.proc.killReason(); {
	case s.refusal != nil:
		return nil, s.refusal
	case reason == "canceled":
		return nil, ctx.Err()
	case s.proc.cmd.ProcessState != nil && sandbox.OutOfTime(s.proc.cmd.ProcessState, lim.BuildTime):
		// Before the wall-clock kill: the kernel's may have come first.
		return nil, fileErr(s.kfile, because(ErrTooLarge, "the kustomize build used more than the limit of %v of processor time%s", lim.BuildTime, s.lastRead()))
	case reason == "timeout":
		// Processor time left: the machine did not run the build, or it
		// was stuck; the commit may build on a retry.
		return nil, fmt.Errorf("render %s: %w: it ran for more than %v having used %v of its %v of processor time: "+
			"the machine is too busy to run it, or the build process is stuck%s",
			s.kfile, ErrBuildTimedOut, lim.BuildWallTime, s.cpu(), lim.BuildTime, s.lastRead())
	case s.fetched != "":
		return nil, fileErr(s.attribute(s.fetched), because(ErrRemoteBase,
			"the build tried to fetch %s: a render has no network access; vendor what it needs into the repo", s.fetched))
	case s.done && serveErr == nil:
		return s.objects, nil
	case s.failure != "" && s.trouble != nil:
		return nil, s.trouble
	case s.failure != "":
		return nil, fileErr(s.kfile, because(ErrBuild, "kustomize build: %s", s.failure))
	}
	out := strings.TrimSpace(s.proc.output.String())
	var ee *exec.ExitError
	switch {
	case strings.Contains(out, "out of memory") || strings.Contains(out, "cannot allocate memory"): // the Go runtime's words
		return nil, fileErr(s.kfile, because(ErrTooLarge, "the kustomize build needs more than the memory limit of %d MiB%s", lim.BuildMemory>>20, s.lastRead()))
	case errors.As(exit, &ee) && ee.ExitCode() == 2: // a Go fatal error: the input's doing
		first, _, _ := strings.Cut(out, "\n")
		return nil, fileErr(s.kfile, because(ErrBuild, "the kustomize build crashed: %s%s", first, s.lastRead()))
	}
	return nil, fmt.Errorf("render %s: kustomize build process: %v, %v: %s", s.kfile, serveErr, exit, out)
}

// cpu is the processor time the ended build used.
func (s *session) cpu() time.Duration {
	st := s.proc.cmd.ProcessState
	if st == nil {
		return 0
	}
	return (st.UserTime() + st.SystemTime()).Round(time.Millisecond)
}

func (s *session) lastRead() string {
	if len(s.served) == 0 {
		return ""
	}
	return " (it last read " + s.served[len(s.served)-1] + ")"
}

// attribute names the file that holds url, the last one read first; the
// kustomization when none does (kustomize may have rewritten it).
func (s *session) attribute(url string) string {
	for i := len(s.served) - 1; i >= 0; i-- {
		f, err := s.b.tree.Open(s.served[i])
		if err != nil {
			continue
		}
		data, err := io.ReadAll(io.LimitReader(f, s.r.opts.Limits.FileBytes))
		f.Close()
		if err == nil && bytes.Contains(data, []byte(url)) {
			return s.served[i]
		}
	}
	return s.kfile
}
