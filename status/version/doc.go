// Package version defines the Version custom resource (syncgate.dev/v1alpha1),
// one per managed namespace, which records every commit's fate, the inventory
// of applied objects and the reports still owed to CI, and a Store to read and
// update it. Its status is stored compact (codec.go), so the Version of a big
// namespace stays far below etcd's object size limit.
//
// +kubebuilder:object:generate=true
// +groupName=syncgate.dev
// +versionName=v1alpha1
package version
