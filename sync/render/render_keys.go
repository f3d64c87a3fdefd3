package render

// Keys name a render's objects across renders of a namespace, so that what
// is derived from an object (apply's hash of what it sends) is derived
// once. A plain YAML object is the JSON of its document in its file's
// blob; the render then changes only its namespace (confine) and the
// image of the container a pin names: the key is the blob, the document
// (and List item), the namespace and the pinned image. Objects of a
// kustomize build, decrypted Secrets and objects of trees that cannot
// name their blobs have no key.

import (
	"strconv"
	"strings"
)

// origin is document n (List item item, 0 for none) of blob; "" when the
// blob is unknown.
func origin(blob string, n, item int) string {
	if blob == "" {
		return ""
	}
	return blob + "#" + strconv.Itoa(n) + "." + strconv.Itoa(item)
}

func keys(objs []object) []string {
	out := make([]string, len(objs))
	var b strings.Builder
	for i, o := range objs {
		if o.origin == "" {
			continue
		}
		b.Reset()
		b.WriteString(o.origin)
		b.WriteByte(0)
		b.WriteString(o.obj.GetNamespace())
		b.WriteByte(0)
		b.WriteString(o.pinned)
		out[i] = b.String()
	}
	return out
}
