package main

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/syncgate/syncgate/sync/shard"
)

// holders are who leads each shard (the leader's Lease for one shard),
// "" where none leads or the holder stopped renewing.
func (w *world) holders(ctx context.Context, shards int) ([]string, error) {
	list, err := w.kube.CoordinationV1().Leases(home).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	names := map[string]int{"syncgate-leader": 0}
	if shards > 1 {
		names = map[string]int{}
		for i := range shards {
			names[shard.LeaseName(i)] = i
		}
	}
	out := make([]string, shards)
	now := time.Now()
	for _, l := range list.Items {
		i, ok := names[l.Name]
		if !ok || l.Spec.HolderIdentity == nil || l.Spec.RenewTime == nil || l.Spec.LeaseDurationSeconds == nil {
			continue
		}
		if l.Spec.RenewTime.Add(time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second).After(now) {
			out[i] = *l.Spec.HolderIdentity
		}
	}
	return out, nil
}

// awaitHolders polls the Leases until ok says yes.
func (w *world) awaitHolders(ctx context.Context, shards int, limit time.Duration, ok func([]string) bool) ([]string, error) {
	deadline := time.Now().Add(limit)
	for {
		h, err := w.holders(ctx, shards)
		if err == nil && ok(h) {
			return h, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("lease holders %v not as wanted after %s (err %v)", h, limit, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// balanced: every shard led by a live replica, each leading its share
// (floor or ceiling of shards / live replicas).
func balanced(live []*replica) func([]string) bool {
	return func(h []string) bool {
		n := map[string]int{}
		for _, x := range h {
			if x == "" {
				return false
			}
			n[x]++
		}
		if len(h) == 1 {
			return liveNamed(live, h[0])
		}
		low, high := len(h)/len(live), shard.Cap(len(h), len(live))
		for _, r := range live {
			if n[r.name] < low || n[r.name] > high {
				return false
			}
		}
		return true
	}
}

func liveNamed(live []*replica, name string) bool {
	for _, r := range live {
		if r.name == name {
			return true
		}
	}
	return false
}

// led is the shards each replica leads.
func led(h []string) map[string][]int {
	out := map[string][]int{}
	for i, x := range h {
		out[x] = append(out[x], i)
	}
	return out
}
