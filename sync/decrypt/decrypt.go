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
// MAC is checked; budget bounds the private-key operations. Every
// document is read, and its sops section bounded (MaxKeyGroups...), before
// a key is read or tried. A Secret that cannot be decrypted, or whose MAC
// does not match, is an error wrapping render.ErrDecrypt; an error without
// it (the keys could not be read) may pass on a retry.
func (d *Decryptor) Decrypt(ctx context.Context, u *unstructured.Unstructured, source []byte, budget *render.KeyBudget) (bool, error) {
	if u.GetKind() != "Secret" || u.GetAPIVersion() != "v1" {
		return false, nil
	}
	whole := Encrypted(u)
	entries := encryptedEntries(u)
	if !whole && len(entries) == 0 {
		return false, nil
	}
	var written *document
	if whole {
		var err error
		if written, err = loadWritten(source); err != nil {
			return false, err
		}
	}
	docs, err := loadEntries(u, entries)
	if err != nil {
		return false, err
	}
	keys, err := d.keys(ctx)
	if err != nil {
		return false, err
	}
	if whole {
		dataKey, err := written.open(keys, budget)
		if err != nil {
			return false, err
		}
		// u itself is decrypted, so what the render set since (the
		// namespace it placed u in) stays.
		if err := decryptObject(u.Object, written.meta, dataKey); err != nil {
			return false, err
		}
		if docs, err = loadEntries(u, encryptedEntries(u)); err != nil {
			return false, err
		}
	}
	for _, e := range docs {
		if err := e.decrypt(u, keys, budget); err != nil {
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

// loadWritten reads a whole encrypted Secret as written.
func loadWritten(source []byte) (*document, error) {
	if len(source) == 0 {
		return nil, refuse("its MAC cannot be checked: the render kept no copy of it as written (an encrypted Secret inside a List?)")
	}
	from := formatYAML
	if bytes.HasPrefix(bytes.TrimSpace(source), []byte("{")) {
		from = formatJSON
	}
	return load(source, from)
}

// entryDoc is a data entry holding a SOPS document.
type entryDoc struct {
	name string
	from format
	doc  *document
}

// loadEntries reads the SOPS documents of u's data entries, in name order.
func loadEntries(u *unstructured.Unstructured, entries map[string]format) ([]entryDoc, error) {
	data, _ := u.Object["data"].(map[string]any)
	names := make([]string, 0, len(entries))
	for name := range entries {
		names = append(names, name)
	}
	sort.Strings(names)
	out := make([]entryDoc, 0, len(names))
	for _, name := range names {
		raw, _ := base64.StdEncoding.DecodeString(data[name].(string))
		doc, err := load(raw, entries[name])
		if err != nil {
			return nil, fmt.Errorf("data entry %s: %w", name, err)
		}
		out = append(out, entryDoc{name: name, from: entries[name], doc: doc})
	}
	return out, nil
}

// decrypt replaces the entry by its document decrypted, its MAC checked,
// written in the format its name says.
func (e entryDoc) decrypt(u *unstructured.Unstructured, keys *Keys, budget *render.KeyBudget) error {
	if _, err := e.doc.open(keys, budget); err != nil {
		return fmt.Errorf("data entry %s: %w", e.name, err)
	}
	out, err := e.doc.emitAs(e.from, formatFor(e.name))
	if err != nil {
		return fmt.Errorf("data entry %s: %w", e.name, refuse("its decrypted form cannot be written as the entry's format"))
	}
	data, _ := u.Object["data"].(map[string]any)
	data[e.name] = base64.StdEncoding.EncodeToString(out)
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
