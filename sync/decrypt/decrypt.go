package decrypt

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"path"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/syncgate/syncgate/sync/render"
)

// KeySource gives the keys to decrypt with. A nil *Keys and no error
// means no keys are configured.
type KeySource interface {
	Keys(ctx context.Context) (*Keys, error)
}

// Decryptor is a render.Decrypter over the keys of a KeySource.
type Decryptor struct {
	src KeySource
	// Setting names the setting that configures the keys, for refusals
	// of encrypted Secrets when none are.
	Setting string
}

// New returns a Decryptor over src (nil: no keys configured).
func New(src KeySource, setting string) *Decryptor {
	return &Decryptor{src: src, Setting: setting}
}

// Encrypted says whether u is a Secret SOPS encrypted whole.
func Encrypted(u *unstructured.Unstructured) bool {
	if u.GetKind() != "Secret" || u.GetAPIVersion() != "v1" {
		return false
	}
	_, ok := u.Object["sops"]
	return ok
}

// Decrypt replaces an encrypted Secret, or the encrypted data entries of
// a Secret, by their plaintext and says whether it did. source is the
// encrypted Secret's YAML or JSON as written (see render.Decrypter), whose
// MAC is checked. A Secret that cannot be decrypted, or whose MAC does
// not match, is an error wrapping render.ErrDecrypt; an error without it
// (the keys could not be read) may pass on a retry.
func (d *Decryptor) Decrypt(ctx context.Context, u *unstructured.Unstructured, source []byte) (bool, error) {
	if u.GetKind() != "Secret" || u.GetAPIVersion() != "v1" {
		return false, nil
	}
	whole := Encrypted(u)
	entries := encryptedEntries(u)
	if !whole && len(entries) == 0 {
		return false, nil
	}
	keys, err := d.keys(ctx)
	if err != nil {
		return false, err
	}
	if whole {
		if err := decryptWhole(ctx, keys, u, source); err != nil {
			return false, err
		}
		entries = encryptedEntries(u)
	}
	if len(entries) > 0 {
		if err := decryptEntries(ctx, keys, u, entries); err != nil {
			return false, err
		}
	}
	return true, checkPlain(u)
}

func (d *Decryptor) keys(ctx context.Context) (*Keys, error) {
	var keys *Keys
	if d.src != nil {
		var err error
		if keys, err = d.src.Keys(ctx); err != nil {
			return nil, err
		}
	}
	if keys == nil {
		return nil, refuse("encrypted with SOPS, and no decryption keys are configured (%s)", d.Setting)
	}
	return keys, nil
}

func refuse(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{render.ErrDecrypt}, args...)...)
}

// decryptWhole checks the MAC of the Secret as written, then decrypts u
// itself with the data key that opened it, so what the render set since
// (the namespace it placed u in) stays.
func decryptWhole(ctx context.Context, keys *Keys, u *unstructured.Unstructured, source []byte) error {
	if len(source) == 0 {
		return refuse("its MAC cannot be checked: the render kept no copy of it as written (an encrypted Secret inside a List?)")
	}
	from := formatYAML
	if bytes.HasPrefix(bytes.TrimSpace(source), []byte("{")) {
		from = formatJSON
	}
	written, err := load(source, from)
	if err != nil {
		return err
	}
	dataKey, err := written.open(ctx, keys)
	if err != nil {
		return err
	}
	return decryptObject(u.Object, written.meta, dataKey)
}

func decryptEntries(ctx context.Context, keys *Keys, u *unstructured.Unstructured, entries map[string]format) error {
	data, _ := u.Object["data"].(map[string]any)
	names := make([]string, 0, len(entries))
	for name := range entries {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		raw, _ := base64.StdEncoding.DecodeString(data[name].(string))
		out, err := decryptDocument(ctx, keys, raw, entries[name], formatFor(name))
		if err != nil {
			return fmt.Errorf("data entry %s: %w", name, err)
		}
		data[name] = base64.StdEncoding.EncodeToString(out)
	}
	return nil
}

// format is a SOPS document format.
type format int

const (
	formatBinary format = iota
	formatJSON
	formatYAML
	formatDotenv
	formatINI
)

// markers tell a SOPS document in each format, as SOPS writes them.
var markers = []struct {
	f      format
	marker []byte
}{
	{formatYAML, []byte("mac: ENC[")},
	{formatJSON, []byte(`"mac": "ENC[`)},
	{formatDotenv, []byte("sops_mac=ENC[")},
	{formatINI, []byte("[sops]")},
}

// encryptedEntries are the data entries holding a SOPS document.
func encryptedEntries(u *unstructured.Unstructured) map[string]format {
	data, _ := u.Object["data"].(map[string]any)
	out := map[string]format{}
	for name, v := range data {
		s, ok := v.(string)
		if !ok {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			continue
		}
		for _, m := range markers {
			if bytes.Contains(raw, m.marker) {
				out[name] = m.f
				break
			}
		}
	}
	return out
}

// formatFor is the format an entry is written back in, by its name.
func formatFor(name string) format {
	switch path.Ext(name) {
	case ".json":
		return formatJSON
	case ".yaml", ".yml":
		return formatYAML
	case ".env":
		return formatDotenv
	case ".ini":
		return formatINI
	}
	return formatBinary
}

// decryptDocument decrypts one SOPS document after checking its MAC and writes
// it in format to.
func decryptDocument(ctx context.Context, keys *Keys, in []byte, from, to format) ([]byte, error) {
	doc, err := load(in, from)
	if err != nil {
		return nil, err
	}
	if _, err := doc.open(ctx, keys); err != nil {
		return nil, err
	}
	out, err := doc.emitAs(from, to)
	if err != nil {
		return nil, refuse("its decrypted form cannot be written as the entry's format")
	}
	return out, nil
}

// macMismatch is the verdict on a document changed since it was
// encrypted; the MACs (hashes of the plaintext) are not passed on.
const macMismatch = "its MAC does not match its values: the file was changed after SOPS encrypted it " +
	"(a value added, removed, reordered or replaced, a field outside the encrypted ones changed, or the MAC removed). " +
	"A Secret a kustomize build changes (labels, a namespace, a name prefix) must be encrypted with sops --mac-only-encrypted"

const undecryptable = "a value does not decrypt with its data key (altered, or left in clear where the document says it is encrypted)"

func offered(k *Keys) string {
	if len(k.Names()) == 0 {
		return "none"
	}
	return strings.Join(k.Names(), ", ")
}

// checkPlain refuses what the API server would quote back: a Secret's
// data and stringData must map names to strings, data's base64.
func checkPlain(u *unstructured.Unstructured) error {
	if _, ok := u.Object["sops"]; ok {
		return refuse("it still has a sops field after decryption")
	}
	for _, field := range []string{"data", "stringData"} {
		v, ok := u.Object[field]
		if !ok || v == nil {
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			return refuse("%s is not a mapping after decryption", field)
		}
		for name, val := range m {
			s, ok := val.(string)
			if !ok {
				return refuse("%s entry %s is not a string after decryption", field, name)
			}
			if field == "data" {
				if _, err := base64.StdEncoding.DecodeString(s); err != nil {
					return refuse("data entry %s is not base64 after decryption", name)
				}
			}
		}
	}
	return nil
}
