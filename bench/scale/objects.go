package main

import (
	"strings"

	"github.com/syncgate/syncgate/bench/internal/benchenv"
)

// files are n objects for namespace directory dir; ConfigMap cm-0 carries
// revision rev. With -service-links=false the Deployments turn service
// links off: their pods get no Service environment variables, so syncgate
// writes them without waiting for the Services (sync/apply/order.go).
func (o *options) files(dir string, n, rev int) map[string]string {
	files := benchenv.Files(dir, n, rev)
	if o.serviceLinks {
		return files
	}
	for p, doc := range files {
		files[p] = strings.Replace(doc, "\n    spec:\n      containers:", "\n    spec:\n      enableServiceLinks: false\n      containers:", 1)
	}
	return files
}

// changed is the file a small commit writes to change one object of dir.
func changed(dir string, rev int) map[string]string { return benchenv.Changed(dir, rev) }
