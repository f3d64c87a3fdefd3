// Package preview answers, before a merge, what a commit would do to the
// cluster: it fetches the head of a pull or merge request (or any ref or
// sha) into the clone without moving the followed branch, renders every
// managed namespace exactly as a sync does, dry-runs the whole commit as
// each namespace's identity and diffs what it would set against what is
// live (apply.Preview). It never writes to the cluster.
//
// Previews run on a budget of their own (Options.Workers), beside syncs,
// and give way to them: each step of a preview waits while a sync is at
// work (Options.Gate, package priority). One preview per head at a time,
// a newer head of the same pull request cancels the older, results are
// cached by sha and the applied commits they were judged against, and a
// burst is queued (Options.Queue).
package preview
