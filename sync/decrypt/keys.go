package decrypt

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/getsops/sops/v3/age"
)

// Key file suffixes in the keys Secret, as Flux names them.
const (
	AgeSuffix = ".agekey"
	PGPSuffix = ".asc"
)

// Keys are the decryption keys of one keys Secret.
type Keys struct {
	age     age.ParsedIdentities
	home    string // a directory of this process alone, holding secring.gpg; "" when no OpenPGP key
	secRing string
	names   []string
}

// ParseKeys reads the keys of a Secret's data: *.agekey entries hold age
// identities (AGE-SECRET-KEY-..., comments allowed), *.asc entries armored
// OpenPGP private keys (unprotected by a passphrase). Other entries are
// ignored. A key entry that does not parse is an error naming the entry,
// never quoting it. The OpenPGP keys are written to a keyring file in a
// new directory under dir, readable by this process alone; Close removes it.
func ParseKeys(data map[string][]byte, dir string) (*Keys, error) {
	k := &Keys{}
	var ring bytes.Buffer
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
				if err := e.SerializePrivateWithoutSigning(&ring, nil); err != nil {
					return nil, fmt.Errorf("decryption keys: entry %s: %w", name, err)
				}
			}
		default:
			continue
		}
		k.names = append(k.names, name)
	}
	if ring.Len() > 0 {
		home, err := os.MkdirTemp(dir, "syncgate-keys-*")
		if err != nil {
			return nil, fmt.Errorf("decryption keys: %w", err)
		}
		k.home, k.secRing = home, filepath.Join(home, "secring.gpg")
		if err := os.WriteFile(k.secRing, ring.Bytes(), 0o600); err != nil {
			_ = k.Close()
			return nil, fmt.Errorf("decryption keys: %w", err)
		}
	}
	return k, nil
}

// Close removes the OpenPGP keyring file.
func (k *Keys) Close() error {
	if k == nil || k.home == "" {
		return nil
	}
	err := os.RemoveAll(k.home)
	k.home, k.secRing = "", ""
	return err
}

// Names are the key entries read, in name order.
func (k *Keys) Names() []string { return k.names }

// Empty says no key was found.
func (k *Keys) Empty() bool { return len(k.age) == 0 && k.secRing == "" }

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
