package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"sync"
	"time"

	"github.com/syncgate/syncgate/bench/internal/benchenv"
)

// The measures of the tables.
const (
	mFirst   = "first sync of the objects"
	mChange  = "one ConfigMap changed"
	mRSS     = "RSS afterwards"
	mCreated = "floor: the bulk create alone"
	mCPU     = "CPU used by the first sync: control plane, tool and bench"

	mStart      = "start → all namespaces deployed"
	mChangedOne = "one ConfigMap changed in one namespace: that namespace deployed"
	mChangedAll = "… every namespace at the new revision"
)

func (e *env) columns(exclude string) []string {
	var out []string
	for _, name := range e.o.tools {
		if t, _ := toolByName(name); t.kind != exclude {
			out = append(out, t.column)
		}
	}
	return out
}

// scenarioOne: the objects into one namespace, each tool in turn, in a
// different order each repetition.
func (e *env) scenarioOne(ctx context.Context) (*results, error) {
	r := newResults(e.columns(""), measure{mFirst, "s"}, measure{mChange, "s"}, measure{mRSS, "MB"}, measure{mCreated, "s"}, measure{mCPU, "s"})
	for rep := range e.o.reps {
		for _, name := range rotated(e.o.tools, rep) {
			t, _ := toolByName(name)
			ns := fmt.Sprintf("one-%s-%d", t.name, rep)
			if err := e.CreateNamespaces(ctx, []string{ns}); err != nil {
				return nil, err
			}
			var err error
			if t.kind == "floor" {
				err = e.floorOne(ctx, t, ns, r)
			} else {
				err = e.syncOne(ctx, t, ns, r)
			}
			if err != nil {
				return nil, fmt.Errorf("%s, repetition %d: %w", t.column, rep+1, err)
			}
			if err := e.DeleteNamespaces(ctx, []string{ns}); err != nil {
				return nil, err
			}
		}
	}
	return r, nil
}

func (e *env) floorOne(ctx context.Context, t tool, ns string, r *results) error {
	began := time.Now()
	profiled := e.cpuProfiles(ctx, ns, "")
	used := e.cpuUsed(0)
	created, ready, err := e.floor(ctx, ns, benchenv.Files(ns, e.o.objects, 1))
	cpu := used()
	profiled()
	if err != nil {
		return err
	}
	r.add(mCPU, t.column, seconds(cpu))
	r.add(mFirst, t.column, seconds(ready.Sub(began)))
	r.add(mCreated, t.column, seconds(created.Sub(began)))
	fmt.Fprintf(os.Stderr, "%-50s created %s, ready %s (CPU %s)\n", t.column, created.Sub(began).Round(10*time.Millisecond), ready.Sub(began).Round(10*time.Millisecond), cpu.Round(10*time.Millisecond))
	return nil
}

func (e *env) syncOne(ctx context.Context, t tool, ns string, r *results) (err error) {
	tg, err := e.newTarget(ctx, t, []string{ns})
	if err != nil {
		return err
	}
	defer func() {
		if serr := tg.stop(ctx); err == nil {
			err = serr
		}
	}()
	base, _, err := tg.publish(ctx, baseFiles(ns))
	if err != nil {
		return err
	}
	if err := tg.start(ctx); err != nil {
		return err
	}
	if _, err := tg.await(ctx, base, ns); err != nil {
		return fmt.Errorf("base revision: %w", err)
	}
	step := func(m string, files map[string]string) (time.Duration, error) {
		rev, at, err := tg.publish(ctx, files)
		if err != nil {
			return 0, err
		}
		done, err := tg.await(ctx, rev, ns)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", m, err)
		}
		r.add(m, t.column, seconds(done.Sub(at)))
		return done.Sub(at), nil
	}
	files := benchenv.Files(ns, e.o.objects, 1)
	profiled := e.cpuProfiles(ctx, ns, debugURL(tg))
	used := e.cpuUsed(tg.pid())
	first, err := step(mFirst, files)
	cpu := used()
	profiled()
	if err != nil {
		return err
	}
	change, err := step(mChange, benchenv.Changed(ns, 2))
	if err != nil {
		return err
	}
	rss, err := tg.rss()
	if err != nil {
		return err
	}
	r.add(mRSS, t.column, megabytes(rss))
	r.add(mCPU, t.column, seconds(cpu))
	fmt.Fprintf(os.Stderr, "%-50s first %s (CPU %s), change %s, RSS %.0f MB\n", t.column, first.Round(10*time.Millisecond), cpu.Round(10*time.Millisecond), change.Round(10*time.Millisecond), megabytes(rss))
	return nil
}

// scenarioMany: namespaces of a few objects each, the tool started with
// the revision already there, then one ConfigMap changed in one of them.
func (e *env) scenarioMany(ctx context.Context) (*results, error) {
	r := newResults(e.columns("floor"), measure{mStart, "s"}, measure{mChangedOne, "s"}, measure{mChangedAll, "s"}, measure{mRSS, "MB"})
	var tools []string
	for _, name := range e.o.tools {
		if t, _ := toolByName(name); t.kind != "floor" {
			tools = append(tools, name)
		}
	}
	for rep := range e.o.manyReps {
		for _, name := range rotated(tools, rep) {
			t, _ := toolByName(name)
			var namespaces []string
			for i := range e.o.namespaces {
				namespaces = append(namespaces, fmt.Sprintf("many-%s-%d-%d", t.name, rep, i))
			}
			if err := e.CreateNamespaces(ctx, namespaces); err != nil {
				return nil, err
			}
			if err := e.syncMany(ctx, t, namespaces, r); err != nil {
				return nil, fmt.Errorf("%s, repetition %d: %w", t.column, rep+1, err)
			}
			if err := e.DeleteNamespaces(ctx, namespaces); err != nil {
				return nil, err
			}
		}
	}
	return r, nil
}

func (e *env) syncMany(ctx context.Context, t tool, namespaces []string, r *results) (err error) {
	tg, err := e.newTarget(ctx, t, namespaces)
	if err != nil {
		return err
	}
	defer func() {
		if serr := tg.stop(ctx); err == nil {
			err = serr
		}
	}()
	files := map[string]string{}
	for _, ns := range namespaces {
		maps.Copy(files, benchenv.Files(ns, e.o.perNS, 1))
	}
	rev, _, err := tg.publish(ctx, files)
	if err != nil {
		return err
	}
	began := time.Now()
	if err := tg.start(ctx); err != nil {
		return err
	}
	done, err := tg.await(ctx, rev, "")
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	start := done.Sub(began)
	r.add(mStart, t.column, seconds(start))

	rev, at, err := tg.publish(ctx, benchenv.Changed(namespaces[0], 2))
	if err != nil {
		return err
	}
	var one, all time.Time
	var errOne, errAll error
	var wg sync.WaitGroup
	wg.Go(func() { one, errOne = tg.await(ctx, rev, namespaces[0]) })
	wg.Go(func() { all, errAll = tg.await(ctx, rev, "") })
	wg.Wait()
	if errOne != nil {
		return errOne
	}
	if errAll != nil {
		return errAll
	}
	r.add(mChangedOne, t.column, seconds(one.Sub(at)))
	r.add(mChangedAll, t.column, seconds(all.Sub(at)))
	rss, err := tg.rss()
	if err != nil {
		return err
	}
	r.add(mRSS, t.column, megabytes(rss))
	fmt.Fprintf(os.Stderr, "%-50s start %s, change %s (all %s), RSS %.0f MB\n", t.column,
		start.Round(10*time.Millisecond), one.Sub(at).Round(10*time.Millisecond), all.Sub(at).Round(10*time.Millisecond), megabytes(rss))
	return nil
}
