// Package decrypt turns SOPS-encrypted Secrets of a rendered commit into
// plain ones, with the age and OpenPGP keys of one Kubernetes Secret, the
// way Flux's kustomize-controller reads them: a Secret whose top level has
// a `sops` field is decrypted whole, and a Secret data entry holding a SOPS
// document (a secretGenerator over an encrypted file) is decrypted in
// place.
//
// Only key types that work offline are offered: age identities (data
// entries named *.agekey) and armored OpenPGP private keys (*.asc). A
// document whose data key no offered key opens is refused; nothing reaches
// the cloud key services SOPS also knows.
//
// Each document's MAC is checked with the SOPS library's own check, as
// `sops decrypt` does (Flux skips it by default): a file changed after it
// was encrypted is refused. A whole Secret's MAC is checked on its YAML
// as written or as the kustomize build made it, in that order; a Secret
// a build changes needs sops --mac-only-encrypted, whose MAC covers the
// encrypted values alone.
//
// No error, log line or string of this package holds a decrypted value,
// nor the MAC SOPS computed over them.
package decrypt
