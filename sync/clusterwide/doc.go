// Package clusterwide decides where syncgate watches a resource: once for
// every namespace, as syncgate itself, where its RBAC lets it list and
// watch the resource cluster-wide, and otherwise once per namespace. Open
// watches then follow the kinds watched, not the namespaces managed. It
// also builds the informers syncgate's watches are made of, and says what
// a refused one does.
package clusterwide
