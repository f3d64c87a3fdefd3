package shard

import (
	"fmt"
	"hash/fnv"
	"time"
)

// Of is the shard, in [0, shards), that leads namespace: FNV-1a (32 bits)
// of its name modulo shards, the same on every replica and every release.
func Of(namespace string, shards int) int {
	if shards <= 1 {
		return 0
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(namespace))
	return int(h.Sum32() % uint32(shards))
}

// Split divides namespaces into shards, each keeping the given order; a
// shard may be empty.
func Split(namespaces []string, shards int) [][]string {
	out := make([][]string, max(shards, 1))
	for _, ns := range namespaces {
		i := Of(ns, shards)
		out[i] = append(out[i], ns)
	}
	return out
}

// LeaseName is the Lease that leads shard i.
func LeaseName(i int) string { return fmt.Sprintf("syncgate-shard-%d", i) }

// MemberLeaseName is the k-th replica slot: a replica holds one while it
// runs, so the others can count the live replicas.
func MemberLeaseName(k int) string { return fmt.Sprintf("syncgate-replica-%d", k) }

// Cap is how many shards one replica leads when members replicas share
// them fairly: ceil(shards / members).
func Cap(shards, members int) int {
	members = max(members, 1)
	return (shards + members - 1) / members
}

// Lease is one shard's Lease as a replica read it.
type Lease struct {
	// Holder is who leads the shard; empty when the Lease was given up or
	// never taken.
	Holder string
	// Expired: Holder has not renewed within the Lease's duration (its
	// process died or lost the API server).
	Expired bool
	// Acquired is when Holder took the Lease (its acquireTime); zero when
	// unknown.
	Acquired time.Time
}

// View is what one replica reads in one round.
type View struct {
	Self string
	// Members is the number of live replicas, this one included.
	Members int
	// Leases are the shards' Leases, by shard.
	Leases []Lease
}

// Plan is what a replica does after a round.
type Plan struct {
	// Contend are the shards this replica may take now, lowest first.
	Contend []int
	// Release is a shard this replica leads and should give up, so a
	// replica with fewer takes it; -1 when none.
	Release int
}

// May reports whether p lets the replica take shard i.
func (p Plan) May(i int) bool {
	for _, c := range p.Contend {
		if c == i {
			return true
		}
	}
	return false
}

// Decide is the rule every replica follows. A replica takes free shards
// (never taken, or given up) while it leads fewer than its fair share,
// Cap(shards, members); it takes a shard whose holder stopped renewing
// whatever it leads, so a dead replica's shards move within the Lease
// time even before it stops being counted. A replica that leads more than
// its share, while another leads less, gives one shard up per round: the
// one it took last (the highest of those taken at once), so that after a
// loss a survivor that took the dead replica's shards passes one of those
// on rather than one it led before; shard 0 (which carries the work done
// once for all) stays where it is as long as it can.
func Decide(v View) Plan {
	limit := Cap(len(v.Leases), v.Members)
	led := map[string]int{}
	for _, l := range v.Leases {
		if l.Holder != "" && !l.Expired {
			led[l.Holder]++
		}
	}
	p := Plan{Release: -1}
	room := limit - led[v.Self]
	for i, l := range v.Leases {
		switch {
		case l.Holder == v.Self && !l.Expired:
		case l.Expired:
			p.Contend = append(p.Contend, i)
		case l.Holder == "" && room > 0:
			p.Contend = append(p.Contend, i)
			room--
		}
	}
	if led[v.Self] > limit && someoneUnder(led, v, limit) {
		p.Release = lastTaken(v)
	}
	return p
}

// lastTaken is the shard v.Self leads that it took last, the highest of
// those taken at once; shard 0 only when it leads no other.
func lastTaken(v View) int {
	release := -1
	for i, l := range v.Leases {
		if l.Holder != v.Self || l.Expired {
			continue
		}
		if release <= 0 || !l.Acquired.Before(v.Leases[release].Acquired) {
			release = i
		}
	}
	return release
}

// someoneUnder reports whether a live replica other than v.Self leads
// fewer than limit shards: one that leads none, or a holder short of it.
func someoneUnder(led map[string]int, v View, limit int) bool {
	holders := len(led)
	if _, ok := led[v.Self]; !ok {
		holders++
	}
	if v.Members > holders {
		return true
	}
	for h, n := range led {
		if h != v.Self && n < limit {
			return true
		}
	}
	return false
}
