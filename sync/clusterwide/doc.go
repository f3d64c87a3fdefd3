// Package clusterwide decides where syncgate watches a resource: once for
// every namespace, as syncgate itself, where its RBAC lets it list and
// watch the resource cluster-wide, and otherwise once per namespace. Open
// watches then follow the kinds watched, not the namespaces managed. A
// watch per namespace, taken because the API server did not answer or
// refused (at start, or a watch in every namespace later), asks again
// every few minutes and goes to every namespace once the answer is yes,
// no restart needed, its handler told of no object twice and losing
// none. It also builds the informers syncgate's watches are made of, and
// says what a refused one does.
//
// Telling no object twice compares resourceVersions across watches as
// numbers. Kubernetes declares them opaque; the comparison holds for
// resources served from etcd (every built-in kind, and custom resources
// such as Version), whose resourceVersions are etcd's revisions. Where
// one is not a number (an aggregated API server's), nothing is compared:
// every event of every informer is passed on, so while two sets of
// informers overlap an object may be told again or an older state after
// a newer one, and one told that the new informers' lists do not hold is
// told deleted, then added again if it exists; none is lost.
package clusterwide
