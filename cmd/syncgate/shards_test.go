package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/syncgate/syncgate/sync/shard"
)

// The round reads each shard Lease's acquireTime: b, over its share after
// taking c's shards 1 and 3, gives up 3 (taken last), not its own 4.
func TestDecideReadsWhenEachShardWasTaken(t *testing.T) {
	now := time.Now()
	lease := func(name, holder string, acquired time.Time) *coordinationv1.Lease {
		secs := int32(15)
		return &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: coordinationv1.LeaseSpec{
			HolderIdentity: &holder, LeaseDurationSeconds: &secs,
			RenewTime: &metav1.MicroTime{Time: now}, AcquireTime: &metav1.MicroTime{Time: acquired},
		}}
	}
	early, late := now.Add(-time.Hour), now.Add(-time.Second)
	byName := map[string]*coordinationv1.Lease{
		shard.MemberLeaseName(0): lease(shard.MemberLeaseName(0), "a", early),
		shard.MemberLeaseName(1): lease(shard.MemberLeaseName(1), "b", early),
	}
	for i, h := range []string{"b", "b", "a", "b", "b", "a"} {
		at := early
		if i == 1 || i == 3 {
			at = late
		}
		byName[shard.LeaseName(i)] = lease(shard.LeaseName(i), h, at)
	}
	s := &sharder{id: "b", shards: 6, resign: make([]chan struct{}, 6)}
	for i := range s.resign {
		s.resign[i] = make(chan struct{}, 1)
	}
	s.decide(byName, now)
	require.Equal(t, 3, s.plan.Release)
	require.Len(t, s.resign[3], 1, "shard 3's leader told to resign")
}
