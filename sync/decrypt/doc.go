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
// No error, log line or string of this package holds a decrypted value.
package decrypt
