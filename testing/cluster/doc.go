// Package cluster runs a real, local Kubernetes control plane for tests and
// the demo: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and
// kwok, whose simulated nodes make pods really get scheduled, run and turn
// Ready through the real controllers. No container runtime is involved.
//
// # In tests
//
// One control plane serves a whole package run:
//
//	func TestMain(m *testing.M) { os.Exit(cluster.Main(m, cluster.Options{})) }
//
//	func TestRollout(t *testing.T) {
//		c := cluster.Shared(t)        // skipped with -short or SYNCGATE_SKIP_CLUSTER=1
//		ns := cluster.Namespace(t, c) // fresh namespace, deleted when the test ends
//		kube := kubernetes.NewForConfigOrDie(c.RESTConfig())
//		...
//	}
//
// Main stops the control plane when the tests end and on SIGINT/SIGTERM. If
// it cannot start, every test that calls Shared fails with the reason (the
// end of the failing process's log included). RESTConfig is an admin
// (system:masters) client allowed 500 QPS, burst 1000; KubeconfigPath is the
// same credential for kubectl. RBAC is enforced (authorization Node,RBAC),
// so ServiceAccount tokens are confined to what their bindings grant. Start
// runs a private control plane; Stop is idempotent.
//
// # Failures on request
//
// Annotations on a pod template choose how kwok plays its pods:
//
//	syncgate.dev/test-fail: crashloop     Running, container waiting in CrashLoopBackOff, restartCount rising every 2s
//	syncgate.dev/test-fail: imagepull     Pending, container waiting in ImagePullBackOff
//	syncgate.dev/test-fail: configerror   Pending, container waiting in CreateContainerConfigError
//	syncgate.dev/test-ready-after: "5s"   Running at once, Ready only after the duration
//
// Pods without them are Running and Ready as soon as they are scheduled.
//
// # Binaries
//
// The binaries are built with go build from pinned build modules under
// testing/tools (etcd, kube, kwok), into $SYNCGATE_CACHE_DIR or
// <user cache dir>/syncgate/bin/<tool>-<version>/, the version being the one
// the build module requires, so bumping a pin rebuilds. Concurrent test
// binaries build once (a file lock) and an interrupted build leaves nothing
// half-written (build in a temp dir, rename). Measured on a 2-core machine:
// a cold build takes about 1 min for etcd, 6–8 min for the three kube
// binaries, 1 min for kwok; with the cache warm a control plane with three
// Ready nodes starts in 3–5 s and holds about 550 MB RSS in all.
//
// # By hand
//
//	go run ./cmd/syncgate-cluster up     # prints KUBECONFIG=...; runs in the background
//	go run ./cmd/syncgate-cluster down
//
// Every process runs in its own process group with its log in the cluster
// directory (logs/<name>.log), on free loopback ports, so several control
// planes can run side by side.
package cluster
