// Package buildproc is the kustomize build process of package render: a
// program of its own (cmd/syncgate-render) that confines itself before it
// reads a byte of the commit, builds one directory over the parent's view
// of the repository, and sends the objects back. Being apart, the agent
// itself links no kustomize.
package buildproc
