package shard

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestOfIsStableAndSpreads(t *testing.T) {
	// FNV-1a of the name: fixed values, so a release never moves a namespace.
	require.Equal(t, 0, Of("anything", 1))
	require.Equal(t, Of("team-a", 6), Of("team-a", 6))
	var nss []string
	for i := range 60 {
		nss = append(nss, fmt.Sprintf("bench-%02d", i))
	}
	parts := Split(nss, 6)
	total := 0
	for i, p := range parts {
		total += len(p)
		require.NotEmpty(t, p, "shard %d", i)
		for _, ns := range p {
			require.Equal(t, i, Of(ns, 6))
		}
	}
	require.Equal(t, 60, total)
}

func TestCap(t *testing.T) {
	require.Equal(t, 6, Cap(6, 1))
	require.Equal(t, 3, Cap(6, 2))
	require.Equal(t, 2, Cap(6, 3))
	require.Equal(t, 2, Cap(3, 2))
	require.Equal(t, 1, Cap(3, 5))
	require.Equal(t, 6, Cap(6, 0))
}

func leases(holders ...string) []Lease {
	out := make([]Lease, len(holders))
	for i, h := range holders {
		out[i] = Lease{Holder: h}
	}
	return out
}

func TestDecideTakesItsShareOfFreeShards(t *testing.T) {
	p := Decide(View{Self: "a", Members: 3, Leases: leases("", "", "", "", "", "")})
	require.Equal(t, []int{0, 1}, p.Contend)
	require.Equal(t, -1, p.Release)

	// Alone, a replica takes them all.
	p = Decide(View{Self: "a", Members: 1, Leases: leases("", "", "")})
	require.Equal(t, []int{0, 1, 2}, p.Contend)

	// At its share, it takes no free shard.
	p = Decide(View{Self: "a", Members: 3, Leases: leases("a", "b", "a", "", "", "")})
	require.Empty(t, p.Contend)
	p = Decide(View{Self: "c", Members: 3, Leases: leases("a", "b", "a", "", "", "")})
	require.Equal(t, []int{3, 4}, p.Contend)
}

func TestDecideTakesAnExpiredShardAtOnce(t *testing.T) {
	l := leases("a", "a", "b", "b", "c", "c")
	l[4].Expired, l[5].Expired = true, true
	// c died and is still counted: a and b are at their share, yet both may
	// take c's shards; the Lease lets one of them have each.
	for _, self := range []string{"a", "b"} {
		p := Decide(View{Self: self, Members: 3, Leases: l})
		require.Equal(t, []int{4, 5}, p.Contend, self)
		require.Equal(t, -1, p.Release, self)
	}
}

func TestDecideGivesUpWhatIsOverItsShare(t *testing.T) {
	// a took every shard before b and c were seen: it gives up the highest,
	// one per round, never shard 0.
	p := Decide(View{Self: "a", Members: 3, Leases: leases("a", "a", "a", "a", "a", "a")})
	require.Equal(t, 5, p.Release)
	require.Empty(t, p.Contend)
	p = Decide(View{Self: "a", Members: 3, Leases: leases("a", "a", "a", "b", "c", "")})
	require.Equal(t, 2, p.Release)
	require.Empty(t, p.Contend, "a does not take back what it gave up")
	// b, under its share, takes the free one.
	p = Decide(View{Self: "b", Members: 3, Leases: leases("a", "a", "a", "b", "c", "")})
	require.Equal(t, []int{5}, p.Contend)

	// After c is gone for good: 2 members, share 3; a at 4 gives one to b.
	p = Decide(View{Self: "a", Members: 2, Leases: leases("a", "a", "a", "a", "b", "b")})
	require.Equal(t, 3, p.Release)
	// Nobody under the share: nothing moves (no ping-pong).
	p = Decide(View{Self: "a", Members: 2, Leases: leases("a", "a", "a", "b", "b", "b")})
	require.Equal(t, -1, p.Release)
	require.Empty(t, p.Contend)
	// More shards than a fair share but every other member full: kept.
	p = Decide(View{Self: "a", Members: 2, Leases: leases("a", "a", "a", "a", "b", "b", "b", "b")})
	require.Equal(t, -1, p.Release)
}

// Replicas that each follow Decide, one after another on what the others
// left, end up with every shard led and none over its share (so with
// shards a multiple of the replicas, the same number each).
func TestDecideConverges(t *testing.T) {
	for _, members := range []int{1, 2, 3, 4} {
		for _, shards := range []int{1, 3, 6, 7} {
			l := make([]Lease, shards)
			ids := []string{"a", "b", "c", "d"}[:members]
			// The first replica starts alone and takes all.
			for _, i := range Decide(View{Self: "a", Members: 1, Leases: l}).Contend {
				l[i].Holder = "a"
			}
			for round := 0; round < 4*shards; round++ {
				for _, id := range ids {
					p := Decide(View{Self: id, Members: members, Leases: l})
					if p.Release >= 0 {
						l[p.Release].Holder = ""
					}
					for _, i := range p.Contend {
						if l[i].Holder == "" {
							l[i].Holder = id
						}
					}
				}
			}
			count := map[string]int{}
			for i, x := range l {
				require.NotEmpty(t, x.Holder, "shard %d of %d, %d members", i, shards, members)
				count[x.Holder]++
			}
			for _, id := range ids {
				require.LessOrEqual(t, count[id], Cap(shards, members), "%s: %v", id, count)
				if shards%members == 0 {
					require.Equal(t, shards/members, count[id], "%s: %v", id, count)
				}
			}
		}
	}
}

// A replica that took a dead replica's shards at once, and so leads more
// than its share, gives up one of those it just took, not one it led
// before: a replica's loss moves only its shards.
func TestDecideGivesUpWhatItTookLast(t *testing.T) {
	// c died leading 1 and 3; b led 0 and 4 and took 1 and 3 at once.
	before, after := time.Unix(1000, 0), time.Unix(2000, 0)
	ls := leases("b", "b", "a", "b", "b", "a")
	for i, at := range []time.Time{before, after, before, after, before, before} {
		ls[i].Acquired = at
	}
	p := Decide(View{Self: "b", Members: 2, Leases: ls})
	require.Equal(t, 3, p.Release, "the highest of those b took last")
	// One taken later than the others goes first, even below them.
	ls[1].Acquired = after.Add(time.Second)
	require.Equal(t, 1, Decide(View{Self: "b", Members: 2, Leases: ls}).Release)
}
