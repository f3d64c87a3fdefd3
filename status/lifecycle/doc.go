// Package lifecycle is the one home of the rules for where a commit stands:
// its transitions and the reports they owe, which commit a namespace works
// on next, supersede and carried outcomes, and the verdict CI is given for
// one namespace and for several. Every function is pure over a Version
// status (and, for verdicts, an ancestry query); the syncer, the gateway and
// the CLI all use it.
package lifecycle
