package main

import (
	"context"
	"maps"

	"fmt"
	"sync"
	"time"

	"github.com/syncgate/syncgate/bench/internal/benchenv"

	"github.com/syncgate/syncgate/testing/demo"
	"github.com/syncgate/syncgate/testing/gitserver"
)

// trial is one scenario under way.
type trial struct {
	// name is the scenario's: commit messages start with it, so that the
	// scenarios' commits differ.
	name   string
	w      *world
	repo   *gitserver.Repo
	shards int
	rs     []*replica
	rev    map[string]int // namespace → revision of its ConfigMap cm-0
	turn   int            // the replica the next webhook goes to
	next   int            // the namespace the next commit touches first
}

func (s *trial) live() []*replica {
	var out []*replica
	for _, r := range s.rs {
		if !r.killed {
			out = append(out, r)
		}
	}
	return out
}

// push commits files and posts the webhook to the next live replica, as a
// Service in front of them would spread them.
func (s *trial) push(ctx context.Context, msg string, files map[string]string) (string, time.Time, error) {
	sha, err := s.repo.CommitFiles(msg, files)
	if err != nil {
		return "", time.Time{}, err
	}
	live := s.live()
	r := live[s.turn%len(live)]
	s.turn++
	at := time.Now()
	return sha, at, demo.PostPush(ctx, r.URL, secret, sha)
}

// touch is the next commit's files: ConfigMap cm-0 changed in the next
// -touch namespaces, in turn.
func (s *trial) touch() map[string]string {
	files := map[string]string{}
	for range s.w.o.touch {
		ns := s.w.namespaces[s.next%len(s.w.namespaces)]
		s.next++
		s.rev[ns]++
		maps.Copy(files, benchenv.Changed(ns, s.rev[ns]))
	}
	return files
}

// seriesResult is a series' commits and figures.
type seriesResult struct {
	shas    []string
	latency []time.Duration // webhook → deployed in every namespace
	took    time.Duration   // first webhook → last commit deployed everywhere
}

func (r seriesResult) perMinute() float64 { return float64(len(r.shas)) / r.took.Minutes() }

// series pushes -commits commits, at most -window waiting at once; halfway
// (before pushing the middle one) it calls halfway when set.
func (s *trial) series(ctx context.Context, label string, halfway func()) (seriesResult, error) {
	o := s.w.o
	var res seriesResult
	var mu sync.Mutex
	var wg sync.WaitGroup
	var failed error
	slots := make(chan struct{}, o.window)
	var start, last time.Time
	for i := range o.commits {
		if i == o.commits/2 && halfway != nil {
			halfway()
		}
		slots <- struct{}{}
		sha, at, err := s.push(ctx, fmt.Sprintf("%s: %s %d", s.name, label, i), s.touch())
		if err != nil {
			return res, err
		}
		if i == 0 {
			start = at
		}
		res.shas = append(res.shas, sha)
		wg.Add(1)
		go func() {
			defer wg.Done()
			done, err := s.w.await(ctx, sha, 5*time.Minute)
			mu.Lock()
			defer mu.Unlock()
			<-slots
			if err != nil {
				failed = fmt.Errorf("%s commit %d: %w", label, i, err)
				return
			}
			res.latency = append(res.latency, done.Sub(at))
			if done.After(last) {
				last = done
			}
		}()
		mu.Lock()
		err = failed
		mu.Unlock()
		if err != nil {
			break
		}
	}
	wg.Wait()
	res.took = last.Sub(start)
	return res, failed
}
