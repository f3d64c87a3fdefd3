package main

import (
	"fmt"
	"path"
	"strings"
)

// kinds are generated in turn: object i is kinds[i%4].
var kinds = []string{"ConfigMap", "Secret", "Service", "Deployment"}

// objectFiles are n objects, one file each under dir ("" for the root):
// ConfigMaps, Secrets, Services and 1-replica Deployments in turn, as a
// config repo holds them. revision is the first ConfigMap's data, so a new
// revision changes that one object only.
func objectFiles(dir string, n, revision int) map[string]string {
	files := make(map[string]string, n)
	for i := range n {
		files[path.Join(dir, fmt.Sprintf("obj-%05d.yaml", i))] = object(i, revision)
	}
	return files
}

// changedFiles is what a new revision rewrites: the first ConfigMap.
func changedFiles(dir string, revision int) map[string]string {
	return map[string]string{path.Join(dir, "obj-00000.yaml"): object(0, revision)}
}

func object(i, revision int) string {
	switch kinds[i%len(kinds)] {
	case "ConfigMap":
		rev := ""
		if i == 0 {
			rev = fmt.Sprintf(", revision: \"%d\"", revision)
		}
		return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%d}\ndata: {index: \"%d\", payload: %s%s}\n",
			i, i, strings.Repeat("x", 200), rev)
	case "Secret":
		return fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata: {name: secret-%d}\nstringData: {token: \"t-%d\"}\n", i, i)
	case "Service":
		return fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata: {name: svc-%d}\nspec: {selector: {app: app-%d}, ports: [{port: 80}]}\n", i, i)
	default:
		return fmt.Sprintf("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app-%[1]d}\nspec:\n"+
			"  replicas: 1\n  selector: {matchLabels: {app: app-%[1]d}}\n  template:\n    metadata: {labels: {app: app-%[1]d}}\n"+
			"    spec: {containers: [{name: app, image: \"registry.example.com/app:%[1]d\"}]}\n", i)
	}
}

// deploymentNames are the Deployments among n objects.
func deploymentNames(n int) []string {
	var out []string
	for i := range n {
		if kinds[i%len(kinds)] == "Deployment" {
			out = append(out, fmt.Sprintf("app-%d", i))
		}
	}
	return out
}

// baseFiles is the revision each tool syncs before the timed ones: one
// ConfigMap, so the tool is running and idle when the objects arrive.
func baseFiles(dir string) map[string]string {
	return map[string]string{path.Join(dir, "base.yaml"): "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: base}\ndata: {ready: \"yes\"}\n"}
}
