// Package clusterwide decides where syncgate watches a resource: once for
// every namespace, as syncgate itself, where its RBAC lets it list and
// watch the resource cluster-wide, and otherwise once per namespace. Open
// watches then follow the kinds watched, not the namespaces managed.
package clusterwide
