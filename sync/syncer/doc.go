// Package syncer is the loop that carries each commit from git to the
// cluster and into the record: fetch, render, apply, wait until Ready, and
// write the outcome (and the reports owed to CI) into the namespace's Version.
// One worker per managed namespace handles one commit at a time; a newer
// commit supersedes the one in flight.
package syncer
