package main

import (
	"fmt"
	"strings"
)

// objects are n objects for namespace directory dir, 250 of each kind per
// 1,000 (ConfigMaps, Secrets, Services, 1-replica Deployments), one file
// each; ConfigMap cm-0 carries revision rev.
func objects(dir string, n, rev int) map[string]string {
	files := make(map[string]string, n)
	for i := range n {
		var doc string
		switch i % 4 {
		case 0:
			doc = fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%d}\ndata: {index: \"%d\", payload: %q}\n", i, i, strings.Repeat("x", 200))
			if i == 0 {
				doc = configMap(rev)
			}
		case 1:
			doc = fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata: {name: secret-%d}\nstringData: {token: \"t-%d\"}\n", i, i)
		case 2:
			doc = fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata: {name: svc-%d}\nspec: {selector: {app: app-%d}, ports: [{port: 80}]}\n", i, i)
		case 3:
			doc = fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: app-%[1]d}
spec:
  replicas: 1
  selector: {matchLabels: {app: app-%[1]d}}
  template:
    metadata: {labels: {app: app-%[1]d}}
    spec:
      containers: [{name: app, image: "registry.example.com/app:%[1]d"}]
`, i)
		}
		files[fmt.Sprintf("%s/obj-%05d.yaml", dir, i)] = doc
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
