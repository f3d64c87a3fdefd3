package decrypt

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/aes"
	"github.com/getsops/sops/v3/cmd/sops/codes"
	"github.com/getsops/sops/v3/cmd/sops/common"
	"github.com/getsops/sops/v3/config"
	"github.com/getsops/sops/v3/keyservice"
	"github.com/getsops/sops/v3/stores/dotenv"
	"github.com/getsops/sops/v3/stores/ini"
	sopsjson "github.com/getsops/sops/v3/stores/json"
	sopsyaml "github.com/getsops/sops/v3/stores/yaml"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"

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
		if err := decryptWhole(keys, u, source); err != nil {
			return false, err
		}
		entries = encryptedEntries(u)
	}
	if len(entries) > 0 {
		if err := decryptEntries(keys, u, entries); err != nil {
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
func decryptWhole(keys *Keys, u *unstructured.Unstructured, source []byte) error {
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
	dataKey, err := open(keys, written)
	if err != nil {
		return err
	}
	in, err := json.Marshal(u.Object)
	if err != nil {
		return refuse("%v", err)
	}
	tree, err := load(in, formatJSON)
	if err != nil {
		return err
	}
	out, err := decryptWith(tree, dataKey, formatJSON)
	if err != nil {
		return err
	}
	m := map[string]any{}
	if err := utiljson.Unmarshal(out, &m); err != nil {
		return refuse("its decrypted form is not an object")
	}
	u.Object = m
	return nil
}

func decryptEntries(keys *Keys, u *unstructured.Unstructured, entries map[string]format) error {
	data, _ := u.Object["data"].(map[string]any)
	names := make([]string, 0, len(entries))
	for name := range entries {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		raw, _ := base64.StdEncoding.DecodeString(data[name].(string))
		out, err := document(keys, raw, entries[name], formatFor(name))
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

type store interface {
	LoadEncryptedFile([]byte) (sops.Tree, error)
	EmitPlainFile(sops.TreeBranches) ([]byte, error)
}

func storeFor(f format) store {
	switch f {
	case formatJSON:
		return sopsjson.NewStore(&config.JSONStoreConfig{})
	case formatYAML:
		return sopsyaml.NewStore(&config.YAMLStoreConfig{})
	case formatDotenv:
		return dotenv.NewStore(&config.DotenvStoreConfig{})
	case formatINI:
		return ini.NewStore(&config.INIStoreConfig{})
	}
	return sopsjson.NewBinaryStore(&config.JSONBinaryStoreConfig{})
}

// document decrypts one SOPS document after checking its MAC.
func document(keys *Keys, in []byte, from, to format) ([]byte, error) {
	tree, err := load(in, from)
	if err != nil {
		return nil, err
	}
	if _, err := open(keys, tree); err != nil {
		return nil, err
	}
	return emit(tree, to)
}

// load reads a SOPS document. SOPS panics on some malformed input.
func load(in []byte, from format) (tree *sops.Tree, err error) {
	defer func() {
		if p := recover(); p != nil {
			tree, err = nil, refuse("SOPS could not read the document")
		}
	}()
	t, err := storeFor(from).LoadEncryptedFile(in)
	if err != nil {
		return nil, refuse("not a SOPS document SOPS can read: %s", firstLine(err.Error()))
	}
	return &t, nil
}

// macMismatch is SOPS's own verdict on a document changed since it was
// encrypted; its numbers (hashes of the plaintext) are not passed on.
const macMismatch = "its MAC does not match its values: the file was changed after SOPS encrypted it " +
	"(a value added, removed, reordered or replaced, a field outside the encrypted ones changed, or the MAC removed). " +
	"A Secret a kustomize build changes (labels, a namespace, a name prefix) must be encrypted with sops --mac-only-encrypted"

// open finds the data key with the offered keys, decrypts tree in place
// and checks its MAC, as `sops decrypt` does, with the SOPS library's own
// check.
func open(keys *Keys, tree *sops.Tree) (dataKey []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			dataKey, err = nil, refuse("SOPS could not read the document")
		}
	}()
	dataKey, err = common.DecryptTree(common.DecryptTreeOpts{
		Tree:            tree,
		KeyServices:     []keyservice.KeyServiceClient{service{keys}},
		DecryptionOrder: sops.DefaultDecryptionOrder,
		Cipher:          aes.NewCipher(),
	})
	if err == nil {
		return dataKey, nil
	}
	// The errors' own texts may quote a value that should have been
	// encrypted and is not, or the MAC: they are not passed on.
	var exit interface{ ExitCode() int }
	if !errors.As(err, &exit) {
		return nil, refuse("SOPS could not decrypt it")
	}
	switch exit.ExitCode() {
	case codes.CouldNotRetrieveKey:
		return nil, refuse("no decryption key offered opens it (it is encrypted for %s; keys offered: %s)", recipients(tree.Metadata), offered(keys))
	case codes.MacMismatch:
		return nil, refuse(macMismatch)
	}
	return nil, refuse(undecryptable)
}

const undecryptable = "a value does not decrypt with its data key (altered, or left in clear where the document says it is encrypted)"

// decryptWith decrypts tree with a data key already checked by open and
// writes it in format to.
func decryptWith(tree *sops.Tree, dataKey []byte, to format) (out []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, refuse("SOPS could not decrypt the document")
		}
	}()
	if _, err := tree.Decrypt(dataKey, aes.NewCipher()); err != nil {
		return nil, refuse(undecryptable)
	}
	return emit(tree, to)
}

func emit(tree *sops.Tree, to format) ([]byte, error) {
	out, err := storeFor(to).EmitPlainFile(tree.Branches)
	if err != nil {
		return nil, refuse("its decrypted form cannot be written as the entry's format")
	}
	return out, nil
}

func recipients(m sops.Metadata) string {
	var out []string
	for _, g := range m.KeyGroups {
		for _, k := range g {
			out = append(out, k.TypeToIdentifier()+" "+k.ToString())
		}
	}
	if len(out) == 0 {
		return "no key"
	}
	return strings.Join(out, ", ")
}

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
