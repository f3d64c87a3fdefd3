// Package previewreport delivers pull request previews to the forge: a
// commit status per cluster and namespace on the head commit (context
// syncgate/<cluster>/<ns>/preview) and one comment per cluster on the
// pull or merge request, edited in place on every new head.
//
// Delivery is the commit statuses' own: the reports a preview owes are
// recorded in a Ledger and delivered by an outbox.Deliverer, with the
// same order, backoff, Retry-After and restart guarantees. The Ledger is
// a ConfigMap of syncgate's namespace, not the Versions: a preview is not
// a commit of the followed branch and has no history entry there, its
// comment speaks for the whole cluster rather than one namespace, and a
// burst of pull requests must not crowd the bounded reports the followed
// branch owes. The ConfigMap also keeps the requests not answered yet, so
// a restart re-runs them.
package previewreport
