// Package render turns one namespace's part of a commit into Kubernetes
// objects: ./<ns>/ then ./<cluster>/<ns>/, each built with kustomize when it
// has a kustomization, else read as multi-document YAML, then image pins
// applied. Every object is confined to the namespace, and every refusal is
// an *Error naming the file and object it is about. A commit is untrusted:
// a render is bounded (Limits), and kustomize runs in a confined child
// process that has no network and a memory ceiling: the build program
// cmd/syncgate-render (package buildproc), so that the agent links no
// kustomize. A namespace's render parses only the plain YAML files whose
// git blobs its last render did not parse, and names its objects across
// renders (RenderKeyed) so that apply hashes only those that changed.
package render
