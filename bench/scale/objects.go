package main

import "github.com/syncgate/syncgate/bench/internal/benchenv"

// objects are n objects for namespace directory dir; ConfigMap cm-0
// carries revision rev.
func objects(dir string, n, rev int) map[string]string { return benchenv.Files(dir, n, rev) }

// changed is the file a small commit writes to change one object of dir.
func changed(dir string, rev int) map[string]string { return benchenv.Changed(dir, rev) }
