package main

import (
	"fmt"

	"github.com/syncgate/syncgate/bench/internal/benchenv"
)

// objects are n objects for namespace directory dir, 250 of each kind per
// 1,000 (ConfigMaps, Secrets, Services, 1-replica Deployments), one file
// each; ConfigMap cm-0 carries revision rev.
func objects(dir string, n, rev int) map[string]string {
	files := make(map[string]string, n)
	kinds := benchenv.Kinds()
	for i := range n {
		doc, _ := benchenv.Object(kinds[i%len(kinds)], i) // a kind it knows
		if i == 0 {
			doc = configMap(rev)
		}
		files[dir+"/"+benchenv.ObjectFile(i)] = doc
	}
	return files
}

// configMap is ConfigMap cm-0 at revision rev: the one object the small
// commits change.
func configMap(rev int) string {
	return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-0}\ndata: {revision: \"%d\"}\n", rev)
}

// changed is the file a small commit writes to change one object of dir.
func changed(dir string, rev int) map[string]string {
	return map[string]string{dir + "/obj-00000.yaml": configMap(rev)}
}
