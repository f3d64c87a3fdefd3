// Package apply writes a namespace's objects with server-side apply: the
// whole set is dry-run first so an invalid commit writes nothing, objects
// whose desired state did not change are not sent at all, and objects a
// newer commit dropped are pruned when syncgate created them.
package apply
