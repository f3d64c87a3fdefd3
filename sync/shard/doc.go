// Package shard divides the managed namespaces among replicas: which shard
// a namespace belongs to (FNV-1a of its name), the Leases that lead each
// shard and count the live replicas, and the rule each replica follows to
// take shards up and give them away, balanced across the replicas alive.
//
// The rule is a pure function of what one replica reads (Decide): the
// Leases themselves, through sync/lease's elector, keep two
// replicas from leading one shard; the rule only keeps one replica from
// leading them all while others wait, and lets a shard whose holder died
// be taken by whoever sees it first.
package shard
