// Package sopstest encrypts documents with SOPS, as the sops command does,
// for tests of what syncgate decrypts.
package sopstest

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"time"

	"filippo.io/age"
	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/aes"
	sopsage "github.com/getsops/sops/v3/age"
	"github.com/getsops/sops/v3/config"
	"github.com/getsops/sops/v3/pgp"
	"github.com/getsops/sops/v3/shamir"
	sopsjson "github.com/getsops/sops/v3/stores/json"
	sopsyaml "github.com/getsops/sops/v3/stores/yaml"
)

// AgeKey is a new age identity and its recipient.
func AgeKey() (identity, recipient string, err error) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return "", "", err
	}
	return id.String(), id.Recipient().String(), nil
}

// PGPKey is an OpenPGP key without a passphrase.
type PGPKey struct {
	Armored     []byte
	Fingerprint string
	entity      *openpgp.Entity
}

// NewPGPKey makes an OpenPGP key (RSA-2048).
func NewPGPKey() (*PGPKey, error) { return NewPGPKeyOf(nil) }

// NewPGPKeyOf makes an OpenPGP key as config says (nil: RSA-2048), e.g.
// &packet.Config{RSABits: 4096}.
func NewPGPKeyOf(config *packet.Config) (*PGPKey, error) {
	e, err := openpgp.NewEntity("syncgate test", "", "test@example.invalid", config)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.PrivateKeyType, nil)
	if err != nil {
		return nil, err
	}
	if err := e.SerializePrivate(w, nil); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return &PGPKey{Armored: buf.Bytes(), Fingerprint: fmt.Sprintf("%X", e.PrimaryKey.Fingerprint), entity: e}, nil
}

// Options say for whom and what to encrypt.
type Options struct {
	AgeRecipients []string
	// PGP keys; PubRing is a public keyring file holding them all.
	PGPFingerprints []string
	PubRing         string
	// EncryptedRegex, as sops --encrypted-regex; "" encrypts every value.
	EncryptedRegex string
	// MACOnlyEncrypted, as sops --mac-only-encrypted: the MAC covers the
	// encrypted values alone.
	MACOnlyEncrypted bool
	// ShamirGroups, when set, are key groups of age recipients instead of
	// AgeRecipients: the data key split by Shamir's scheme, any
	// ShamirThreshold of the groups' parts opening it (sops
	// --shamir-secret-sharing-threshold over a .sops.yaml's key_groups).
	ShamirGroups    [][]string
	ShamirThreshold int
	// The other rules, as sops's flags of the same names; at most one of
	// them and EncryptedRegex.
	UnencryptedRegex, EncryptedSuffix, UnencryptedSuffix string
	EncryptedCommentRegex, UnencryptedCommentRegex       string
}

// Formats SOPS reads and writes.
const (
	YAML   = "yaml"
	JSON   = "json"
	Binary = "binary"
)

type store interface {
	LoadPlainFile([]byte) (sops.TreeBranches, error)
	EmitPlainFile(sops.TreeBranches) ([]byte, error)
	EmitEncryptedFile(sops.Tree) ([]byte, error)
}

func storeFor(format string) (store, error) {
	switch format {
	case YAML:
		return sopsyaml.NewStore(&config.YAMLStoreConfig{}), nil
	case JSON:
		return sopsjson.NewStore(&config.JSONStoreConfig{}), nil
	case Binary:
		return sopsjson.NewBinaryStore(&config.JSONBinaryStoreConfig{}), nil
	}
	return nil, fmt.Errorf("sopstest: format %q", format)
}

// Decrypted is what `sops decrypt` prints for a document encrypted from
// plain: plain as SOPS reads and writes it back.
func Decrypted(plain []byte, format string) ([]byte, error) {
	st, err := storeFor(format)
	if err != nil {
		return nil, err
	}
	branches, err := st.LoadPlainFile(plain)
	if err != nil {
		return nil, err
	}
	return st.EmitPlainFile(branches)
}

// WritePubRing writes the public keys of ks as a keyring file.
func WritePubRing(path string, ks ...*PGPKey) error {
	var buf bytes.Buffer
	for _, k := range ks {
		if err := k.entity.Serialize(&buf); err != nil {
			return err
		}
	}
	return os.WriteFile(path, buf.Bytes(), 0o600)
}

// EncryptYAML encrypts a YAML document as `sops --encrypt` does.
func EncryptYAML(plain []byte, o Options) ([]byte, error) {
	return Encrypt(plain, YAML, o)
}

// Encrypt encrypts a document of format (YAML, JSON or Binary) as
// `sops --encrypt --input-type format` does.
func Encrypt(plain []byte, format string, o Options) ([]byte, error) {
	store, err := storeFor(format)
	if err != nil {
		return nil, err
	}
	branches, err := store.LoadPlainFile(plain)
	if err != nil {
		return nil, err
	}
	var group sops.KeyGroup
	for _, r := range o.AgeRecipients {
		k, err := sopsage.MasterKeyFromRecipient(r)
		if err != nil {
			return nil, err
		}
		group = append(group, k)
	}
	for _, fp := range o.PGPFingerprints {
		k := pgp.NewMasterKeyFromFingerprint(fp)
		pgp.PubRing(o.PubRing).ApplyToMasterKey(k)
		group = append(group, k)
	}
	groups := []sops.KeyGroup{group}
	if len(o.ShamirGroups) > 0 {
		if groups, err = ageGroups(o.ShamirGroups); err != nil {
			return nil, err
		}
	}
	tree := sops.Tree{
		Branches: branches,
		Metadata: sops.Metadata{
			KeyGroups:               groups,
			ShamirThreshold:         o.ShamirThreshold,
			EncryptedRegex:          o.EncryptedRegex,
			UnencryptedRegex:        o.UnencryptedRegex,
			EncryptedSuffix:         o.EncryptedSuffix,
			UnencryptedSuffix:       o.UnencryptedSuffix,
			EncryptedCommentRegex:   o.EncryptedCommentRegex,
			UnencryptedCommentRegex: o.UnencryptedCommentRegex,
			MACOnlyEncrypted:        o.MACOnlyEncrypted,
			Version:                 "3.13.2", // the SOPS release the library is
		},
	}
	if o.EncryptedRegex+o.UnencryptedRegex+o.EncryptedSuffix+o.UnencryptedSuffix+o.EncryptedCommentRegex+o.UnencryptedCommentRegex == "" {
		tree.Metadata.UnencryptedSuffix = sops.DefaultUnencryptedSuffix // as the sops command sets it
	}
	dataKey, errs := generate(&tree)
	if len(errs) > 0 {
		return nil, fmt.Errorf("sopstest: data key: %v", errs)
	}
	cipher := aes.NewCipher()
	mac, err := tree.Encrypt(dataKey, cipher)
	if err != nil {
		return nil, err
	}
	tree.Metadata.LastModified = time.Now().UTC()
	if tree.Metadata.MessageAuthenticationCode, err = cipher.Encrypt(mac, dataKey, tree.Metadata.LastModified.Format(time.RFC3339)); err != nil {
		return nil, err
	}
	return store.EmitEncryptedFile(tree)
}

// generate makes the data key and encrypts it for each key directly, so
// OpenPGP keys are read from the given public keyring.
func generate(tree *sops.Tree) ([]byte, []error) {
	dataKey := make([]byte, 32)
	if _, err := rand.Read(dataKey); err != nil {
		return nil, []error{err}
	}
	parts := [][]byte{dataKey}
	if groups := tree.Metadata.KeyGroups; len(groups) > 1 {
		var err error
		if parts, err = shamir.Split(dataKey, len(groups), tree.Metadata.ShamirThreshold); err != nil {
			return nil, []error{err}
		}
	}
	var errs []error
	for i, g := range tree.Metadata.KeyGroups {
		for _, k := range g {
			if err := k.Encrypt(parts[i]); err != nil {
				errs = append(errs, err)
			}
		}
	}
	tree.Metadata.DataKey = dataKey
	return dataKey, errs
}

func ageGroups(recipients [][]string) ([]sops.KeyGroup, error) {
	var groups []sops.KeyGroup
	for _, rs := range recipients {
		var g sops.KeyGroup
		for _, r := range rs {
			k, err := sopsage.MasterKeyFromRecipient(r)
			if err != nil {
				return nil, err
			}
			g = append(g, k)
		}
		groups = append(groups, g)
	}
	return groups, nil
}
