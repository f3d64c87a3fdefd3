package benchenv

import (
	"fmt"
	"path"
)

// Files are n objects for namespace directory dir, 250 of each kind per
// 1,000 (ConfigMaps, Secrets, Services, 1-replica Deployments), one file
// each; ConfigMap cm-0 carries revision rev.
func Files(dir string, n, rev int) map[string]string {
	files := make(map[string]string, n)
	kinds := Kinds()
	for i := range n {
		doc, _ := Object(kinds[i%len(kinds)], i) // a kind it knows
		if i == 0 {
			doc = revision(rev)
		}
		files[path.Join(dir, ObjectFile(i))] = doc
	}
	return files
}

// Changed is the file a small commit writes to change one object of dir:
// ConfigMap cm-0 at revision rev.
func Changed(dir string, rev int) map[string]string {
	return map[string]string{path.Join(dir, ObjectFile(0)): revision(rev)}
}

func revision(rev int) string {
	return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-0}\ndata: {revision: \"%d\"}\n", rev)
}
