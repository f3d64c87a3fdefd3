package apply

import (
	"context"
	"slices"
	"sync"

	"golang.org/x/sync/errgroup"
)

// serviceLane is how many Services are in flight. kube-apiserver 1.36
// allocates cluster IPs one at a time, under a lock held across the
// IPAddress object's creation, but the rest of each request (admission,
// the apply, storage) runs beside it: in the bench's first sync of 250
// Services and 250 Deployments, 32 in flight against 8 made the sync
// faster in every repetition (bench/README.md, bench/flux).
const serviceLane = 32

// schedule runs fn over ds in the order of order.go: each workload once
// the objects it uses are done, the rest at once. Services have a lane of
// their own (serviceLane in flight): the API server allocates their
// cluster IPs one at a time, and in the shared lane Services waiting for
// that lock would take every slot. The rest share limit in flight; a
// workload whose objects are done goes ahead of objects not begun, and
// objects some workload uses go ahead of the others. The objects no
// workload uses go once every workload is released (p.ready closed): sent
// earlier, they only take the API server's time from what workloads wait
// for, the Services' allocation above all.
//
// The first error stops the write: nothing more is begun. What is in
// flight is let finish, with ctx and not a context the error ends: a
// request cut short on the client may have been stored all the same, and
// only its answer says what is live (a quota admits one of two Services
// sent together and refuses the other).
func schedule(ctx context.Context, ds []*desired, limit int, fn func(context.Context, *desired) error) error {
	p := plan(ds)
	g, stopped := errgroup.WithContext(ctx)
	run := func(d *desired) error {
		if err := fn(ctx, d); err != nil {
			return err
		}
		p.done(d)
		return nil
	}
	services := queueOf(p.services)
	for range min(serviceLane, len(p.services)) {
		g.Go(func() error { return drain(stopped, nil, services, nil, run) })
	}
	used, unused := queueOf(p.used), queueOf(p.unused)
	for range min(limit, len(p.used)+len(p.unused)+p.workloads) {
		g.Go(func() error { return drain(stopped, p.ready, used, unused, run) })
	}
	return g.Wait()
}

// drain runs what ready and queue hold until both are closed and empty,
// taking from ready first, and then what later holds. It begins nothing
// once ctx is done, checked again before each run.
func drain(ctx context.Context, ready, queue, later <-chan *desired, run func(*desired) error) error {
	for ready != nil || queue != nil || later != nil {
		if err := ctx.Err(); err != nil {
			return err
		}
		if ready == nil && queue == nil {
			queue, later = later, nil
		}
		var d *desired
		var ok bool
		select {
		case d, ok = <-ready:
			if !ok {
				ready = nil
				continue
			}
		default:
			select {
			case <-ctx.Done():
				return ctx.Err()
			case d, ok = <-ready:
				if !ok {
					ready = nil
					continue
				}
			case d, ok = <-queue:
				if !ok {
					queue = nil
					continue
				}
			}
		}
		// The stop may have fired since the check above: a receive
		// from ready does not wait for it, and the select picks at
		// random between it and a queue not empty.
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := run(d); err != nil {
			return err
		}
	}
	return nil
}

func queueOf(ds []*desired) chan *desired {
	q := make(chan *desired, len(ds))
	for _, d := range ds {
		q <- d
	}
	close(q)
	return q
}

// schedulePlan is who waits for whom in one write.
type schedulePlan struct {
	services     []*desired
	used, unused []*desired // the rest that are not workloads: used by one, or by none
	workloads    int        // every workload of the write

	mu            sync.Mutex
	waiting       map[*desired]int      // workloads and how many things they still wait for
	dependents    map[string][]*desired // by id of what they use
	servicesLeft  map[string]int        // by namespace: its Services not done yet
	afterServices map[string][]*desired // by namespace: workloads that follow all its Services
	ready         chan *desired         // workloads whose objects are done; closed after the last
}

// plan counts, for each workload, what it waits for: each object it uses,
// and the Services of its namespace as one (counted down in servicesLeft),
// so a write of many Services and workloads is planned in linear time.
func plan(ds []*desired) *schedulePlan {
	ix := indexOf(ds)
	p := &schedulePlan{
		waiting: map[*desired]int{}, dependents: map[string][]*desired{},
		servicesLeft: map[string]int{}, afterServices: map[string][]*desired{},
		ready: make(chan *desired, len(ds)),
	}
	for ns, ids := range ix.services {
		p.servicesLeft[ns] = len(ids)
	}
	for _, d := range ds {
		switch {
		case allocates(d.ref):
			p.services = append(p.services, d)
		case isWorkload(d.ref):
			p.workloads++
			after, services := uses(d, ix)
			n := len(after)
			if services {
				n++
				p.afterServices[d.ref.Namespace] = append(p.afterServices[d.ref.Namespace], d)
			}
			if n == 0 {
				p.ready <- d
				continue
			}
			p.waiting[d] = n
			for _, id := range after {
				p.dependents[id] = append(p.dependents[id], d)
			}
		}
	}
	for _, d := range ds {
		switch {
		case allocates(d.ref) || isWorkload(d.ref):
		case len(p.dependents[d.ref.id()]) > 0:
			p.used = append(p.used, d)
		default:
			p.unused = append(p.unused, d)
		}
	}
	if len(p.waiting) == 0 {
		close(p.ready)
	}
	return p
}

// done releases the workloads that waited only for d: those that use it,
// and when d is its namespace's last Service, those that follow them all.
func (p *schedulePlan) done(d *desired) {
	p.mu.Lock()
	defer p.mu.Unlock()
	waiters := p.dependents[d.ref.id()]
	if ns := d.ref.Namespace; allocates(d.ref) {
		if p.servicesLeft[ns]--; p.servicesLeft[ns] == 0 {
			waiters = append(slices.Clip(waiters), p.afterServices[ns]...)
		}
	}
	for _, w := range waiters {
		p.waiting[w]--
		if p.waiting[w] > 0 {
			continue
		}
		delete(p.waiting, w)
		p.ready <- w
		if len(p.waiting) == 0 {
			close(p.ready)
		}
	}
}
