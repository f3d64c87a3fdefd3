// Package cluster runs a real, local Kubernetes control plane for tests and
// the demo: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and
// kwok (simulated nodes whose pods really get scheduled, run and turn Ready).
// The binaries are built from pinned build modules under testing/tools into a
// cache keyed by version, so only the first run on a machine pays for them.
//
// Pods can be made to fail on purpose through annotations on their template:
// syncgate.dev/test-fail (crashloop, imagepull, configerror) and
// syncgate.dev/test-ready-after (a duration before Ready).
package cluster
