package decrypt

import (
	"bytes"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	fage "filippo.io/age"
	"filippo.io/age/plugin"
	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/getsops/sops/v3/age"
)

// Key file suffixes in the keys Secret, as Flux names them.
const (
	AgeSuffix = ".agekey"
	PGPSuffix = ".asc"
)

// Keys are the decryption keys of one keys Secret, parsed once: the
// OpenPGP keyring is held in memory, never written to a file or handed
// to GnuPG.
type Keys struct {
	age age.ParsedIdentities
	// ageRecipients are the recipients of age's identities, "" for one
	// that is not X25519.
	ageRecipients []string
	pgp           openpgp.EntityList
	names         []string
}

// ParseKeys reads the keys of a Secret's data: *.agekey entries hold age
// identities (AGE-SECRET-KEY-..., comments allowed), *.asc entries armored
// OpenPGP private keys (unprotected by a passphrase). Other entries are
// ignored. A key entry that does not parse is an error naming the entry,
// never quoting it.
func ParseKeys(data map[string][]byte) (*Keys, error) {
	k := &Keys{}
	names := make([]string, 0, len(data))
	for name := range data {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		v := data[name]
		switch filepath.Ext(name) {
		case AgeSuffix:
			if err := k.age.Import(string(v)); err != nil {
				return nil, fmt.Errorf("decryption keys: entry %s holds no valid age identity", name)
			}
			for _, id := range k.age[len(k.ageRecipients):] {
				r := ""
				switch x := id.(type) {
				case *fage.X25519Identity:
					r = x.Recipient().String()
				case *plugin.Identity:
					return nil, fmt.Errorf("decryption keys: entry %s holds an age plugin identity (AGE-PLUGIN-…): syncgate runs no age plugins, give it an AGE-SECRET-KEY identity", name)
				}
				k.ageRecipients = append(k.ageRecipients, r)
			}
		case PGPSuffix:
			entities, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(v))
			if err != nil {
				return nil, fmt.Errorf("decryption keys: entry %s holds no armored OpenPGP key", name)
			}
			for _, e := range entities {
				if e.PrivateKey == nil {
					return nil, fmt.Errorf("decryption keys: entry %s holds an OpenPGP public key, not a private one", name)
				}
				if e.PrivateKey.Encrypted {
					return nil, fmt.Errorf("decryption keys: entry %s holds an OpenPGP private key protected by a passphrase", name)
				}
			}
			k.pgp = append(k.pgp, entities...)
		default:
			continue
		}
		k.names = append(k.names, name)
	}
	return k, nil
}

// Names are the key entries read, in name order.
func (k *Keys) Names() []string { return k.names }

// Empty says no key was found.
func (k *Keys) Empty() bool { return len(k.age) == 0 && len(k.pgp) == 0 }

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
