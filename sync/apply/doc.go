// Package apply writes a namespace's objects with server-side apply, as the
// namespace's own ServiceAccount: objects whose desired state did not change
// are not sent at all, the changed ones are dry-run as a whole first so an
// invalid commit writes nothing, then written each workload as soon as what
// its pod template uses is (order.go has the rule), and objects a newer
// commit dropped are pruned only when the live object is the namespace's
// and was not adopted. Drift re-applies objects edited or deleted by hand.
package apply
