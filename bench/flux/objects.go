package main

import "path"

// baseFiles is the revision each tool syncs before the timed ones: one
// ConfigMap, so the tool is running and idle when the objects arrive.
func baseFiles(dir string) map[string]string {
	return map[string]string{path.Join(dir, "base.yaml"): "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: base}\ndata: {ready: \"yes\"}\n"}
}
