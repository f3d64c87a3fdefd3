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
// SOPS's documented format is read here, not by the sops library, whose
// root package links every cloud key service client (keyservice): YAML,
// JSON and binary documents, values AES256_GCM under the data key with
// their path as additional data, the encryption rules of the metadata;
// the data key is opened with sops/age, sops/shamir and go-crypto's
// OpenPGP over a keyring parsed once per keys Secret (never GnuPG).
//
// A commit chooses how many master keys an offered key must try, each a
// private-key operation (RSA for OpenPGP) in the agent's own process, so
// a sops section is bounded before any is tried (MaxKeyGroups,
// MaxGroupKeys, MaxEncBytes, MaxRecipients: refused as render.ErrTooLarge)
// and every operation runs through the render's render.KeyBudget, which
// is charged those that fail (render.Limits.KeyAttempts: render.ErrTooMany;
// a file SOPS wrote for an offered key costs none) and the weight of
// every one, by the processor time its key takes (render.Limits.KeyCost:
// an age operation 1 unit, RSA-2048 4, RSA-4096 32; pgpCost). A data key
// opened once is remembered for the render, by its enc: a file reached
// twice, or copied, is not opened again (SOPS writes a new data key for
// each file, so distinct files each cost their operation).
// Dotenv and INI documents are refused. testing/sopstest encrypts with the
// real library, and the tests compare with what `sops decrypt` prints.
//
// Each document's MAC is checked as `sops decrypt` checks it (Flux skips
// it by default): a file changed after it
// was encrypted is refused. A whole Secret's MAC is checked on its YAML
// as written or as the kustomize build made it, in that order; a Secret
// a build changes needs sops --mac-only-encrypted, whose MAC covers the
// encrypted values alone.
//
// No error, log line or string of this package holds a decrypted value,
// nor the MAC SOPS computed over them.
package decrypt
