// Package soak is a seeded fault-injection soak of syncgate: on the real
// control plane, real git over HTTP, a real S3 server and the GitHub fake,
// two `syncgate run` replicas with leader election follow a config repo that
// receives a seeded stream of commits (good, refused at render, refused by
// the API server, crashlooping, prune-only, comment-only, bursts and
// force-push rollbacks) while faults are injected at seeded points (SIGKILL
// of the leader or the follower, an API server restart, git, S3 and forge
// outages, the Version deleted). After each step settles it checks that
// every commit got one final answer on which /wait (both replicas), the
// Version, S3 and the forge agree, and that the cluster runs what was
// answered deployed. bench/soak is its command; soak_test.go a short run.
package soak
