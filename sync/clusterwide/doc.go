// Package clusterwide decides where syncgate watches a resource: once for
// every namespace, as syncgate itself, where its RBAC lets it list and
// watch the resource cluster-wide, and otherwise once per namespace. Open
// watches then follow the kinds watched, not the namespaces managed. A
// watch per namespace taken because the API server did not answer goes
// to every namespace once it answers yes, its handler told of no object
// twice and losing none. It also builds the informers syncgate's watches
// are made of, and says what a refused one does.
package clusterwide
