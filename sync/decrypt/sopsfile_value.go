package decrypt

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// A SOPS value as written: ENC[AES256_GCM,data:…,iv:…,tag:…,type:…],
// each part base64 but the type. The ciphertext is AES-256-GCM under the
// document's data key with the value's path as additional data, so a
// value moved to another key does not open.
const (
	encPrefix = "ENC[AES256_GCM,"
	encSuffix = "]"
)

var errNotEncrypted = errors.New("not a SOPS encrypted value")

// openValue decrypts one value written by SOPS and returns it with its
// recorded type: string, int, float64, bool, time.Time, []byte, or a
// comment (string, for comments). An empty value stays empty, as SOPS
// writes an empty value unencrypted.
func openValue(written string, dataKey []byte, path string) (v any, isComment bool, err error) {
	if written == "" {
		return "", false, nil
	}
	if !strings.HasPrefix(written, encPrefix) || !strings.HasSuffix(written, encSuffix) {
		return nil, false, errNotEncrypted
	}
	parts := map[string]string{}
	for _, p := range strings.Split(written[len(encPrefix):len(written)-len(encSuffix)], ",") {
		name, val, ok := strings.Cut(p, ":")
		if !ok {
			return nil, false, errNotEncrypted
		}
		parts[name] = val
	}
	var raw [3][]byte
	for i, name := range []string{"data", "iv", "tag"} {
		if raw[i], err = base64.StdEncoding.DecodeString(parts[name]); err != nil {
			return nil, false, errNotEncrypted
		}
	}
	plain, err := openGCM(dataKey, raw[0], raw[1], raw[2], path)
	if err != nil {
		return nil, false, err
	}
	return typed(plain, parts["type"])
}

func openGCM(dataKey, data, iv, tag []byte, path string) ([]byte, error) {
	block, err := aes.NewCipher(dataKey)
	if err != nil {
		return nil, err
	}
	if len(iv) == 0 {
		return nil, errNotEncrypted
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, len(iv))
	if err != nil {
		return nil, err
	}
	return gcm.Open(nil, iv, append(append([]byte{}, data...), tag...), []byte(path))
}

func typed(plain []byte, kind string) (v any, isComment bool, err error) {
	s := string(plain)
	switch kind {
	case "str":
		return s, false, nil
	case "int":
		v, err = strconv.Atoi(s)
	case "float":
		v, err = strconv.ParseFloat(s, 64)
	case "bool":
		v, err = strconv.ParseBool(s)
	case "bytes":
		return plain, false, nil
	case "time":
		var t time.Time
		err = t.UnmarshalText(plain)
		v = t
	case "comment":
		return s, true, nil
	default:
		return nil, false, fmt.Errorf("unknown value type %q", kind)
	}
	return v, false, err
}

// macBytes is what a value adds to the MAC: its text as SOPS writes each
// type (booleans capitalised, floats without exponent).
func macBytes(v any) ([]byte, error) {
	switch v := v.(type) {
	case string:
		return []byte(v), nil
	case []byte:
		return v, nil
	case int:
		return []byte(strconv.Itoa(v)), nil
	case int64:
		return []byte(strconv.FormatInt(v, 10)), nil
	case float64:
		return []byte(strconv.FormatFloat(v, 'f', -1, 64)), nil
	case bool:
		if v {
			return []byte("True"), nil
		}
		return []byte("False"), nil
	case time.Time:
		return v.MarshalText()
	}
	return nil, fmt.Errorf("a value of type %T", v)
}
