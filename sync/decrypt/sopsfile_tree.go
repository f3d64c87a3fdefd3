package decrypt

import (
	"crypto/sha512"
	"errors"
	"fmt"
	"hash"
	"regexp"
	"strings"
)

// The document model SOPS's rules are written over: mappings of string
// keys in file order, sequences, leaves and comments. Each format reads
// its file into it with a way to write each leaf back.
type (
	mapping  []entry
	sequence []any // *leaf, *commentLine, mapping, sequence or nil
	entry    struct {
		key     string
		comment *commentLine // set for a comment among the entries
		value   any          // *leaf, mapping, sequence or nil
	}
	leaf struct {
		v   any // string, int, int64, float64, bool, time.Time, []byte
		set func(any)
	}
	commentLine struct {
		text string // without the leading '#'
		set  func(string)
	}
)

// rules say which values SOPS encrypted: at most one of the suffix and
// regex settings of the document's metadata, unencrypted_suffix
// "_unencrypted" when none is set.
type rules struct {
	unencryptedSuffix, encryptedSuffix   string
	unencryptedRegex, encryptedRegex     *regexp.Regexp
	unencryptedComment, encryptedComment *regexp.Regexp
	macOnlyEncrypted                     bool
}

// macOnlyEncryptedInit starts the MAC of a document written with
// --mac-only-encrypted, as SOPS documents it (a fixed 32-byte prefix), so
// the two kinds of MAC never match each other.
var macOnlyEncryptedInit = []byte{0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3, 0xd1, 0x47, 0xbe, 0x0b, 0x0b, 0x97, 0x5b, 0x3b, 0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69}

// errUndecryptable: a value that should be encrypted is not, or does not
// open with the data key at its path.
var errUndecryptable = errors.New("undecryptable value")

// walker decrypts the leaves of a document in file order and sums the MAC
// over the plaintext, as SOPS does: comments are decrypted when they
// open, and never enter the MAC.
type walker struct {
	rules
	dataKey []byte
	mac     hash.Hash
}

func newWalker(r rules, dataKey []byte) *walker {
	w := &walker{rules: r, dataKey: dataKey, mac: sha512.New()}
	if r.macOnlyEncrypted {
		w.mac.Write(macOnlyEncryptedInit)
	}
	return w
}

// sum is the MAC as SOPS writes it: upper-case hex of SHA-512.
func (w *walker) sum() string { return fmt.Sprintf("%X", w.mac.Sum(nil)) }

// comments holds, per level, the comments read since the last value.
type comments [][]string

func (c comments) push() comments {
	return append(append(comments{}, c...), nil)
}

func (w *walker) mapping(m mapping, path []string, cs comments) error {
	cs = cs.push()
	top := len(cs) - 1
	for _, e := range m {
		if e.comment != nil {
			cs[top] = append(cs[top], e.comment.text)
			w.comment(e.comment, path, cs)
			continue
		}
		if err := w.value(e.value, append(append([]string{}, path...), e.key), cs); err != nil {
			return err
		}
		cs[top] = nil
	}
	return nil
}

func (w *walker) sequence(s sequence, path []string, cs comments) error {
	cs = cs.push()
	top := len(cs) - 1
	for _, v := range s {
		if c, ok := v.(*commentLine); ok {
			cs[top] = append(cs[top], c.text)
			w.comment(c, path, cs)
			continue
		}
		if err := w.value(v, path, cs); err != nil {
			return err
		}
		cs[top] = nil
	}
	return nil
}

func (w *walker) value(v any, path []string, cs comments) error {
	switch v := v.(type) {
	case mapping:
		return w.mapping(v, path, cs)
	case sequence:
		return w.sequence(v, path, cs)
	case *leaf:
		return w.leaf(v, path, cs)
	}
	return nil
}

func (w *walker) leaf(l *leaf, path []string, cs comments) error {
	encrypted := w.encrypted(path, cs, false)
	v := l.v
	if encrypted {
		s, ok := v.(string)
		if !ok {
			return errUndecryptable
		}
		plain, isComment, err := openValue(s, w.dataKey, strings.Join(path, ":")+":")
		if err != nil || isComment {
			return errUndecryptable
		}
		v = plain
		l.v = v
		if l.set != nil {
			l.set(v)
		}
	}
	if !w.macOnlyEncrypted || encrypted {
		b, err := macBytes(v)
		if err != nil {
			return err
		}
		w.mac.Write(b)
	}
	return nil
}

// comment decrypts a comment SOPS encrypted; one that does not open was
// written in clear (older SOPS releases did not encrypt comments).
func (w *walker) comment(c *commentLine, path []string, cs comments) {
	if !w.encrypted(path, cs, true) {
		return
	}
	plain, isComment, err := openValue(c.text, w.dataKey, strings.Join(path, ":")+":")
	if err != nil {
		return
	}
	text, ok := plain.(string)
	if !ok || !isComment {
		return
	}
	c.text = text
	if c.set != nil {
		c.set(text)
	}
}

// encrypted says whether SOPS encrypted the value at path, by the
// document's rules: suffixes and regexes over the keys of its path,
// comment regexes over the comments above it.
func (r rules) encrypted(path []string, cs comments, isComment bool) bool {
	any := func(match func(string) bool) bool {
		for _, p := range path {
			if match(p) {
				return true
			}
		}
		return false
	}
	switch {
	case r.unencryptedSuffix != "":
		return !any(func(p string) bool { return strings.HasSuffix(p, r.unencryptedSuffix) })
	case r.encryptedSuffix != "":
		return any(func(p string) bool { return strings.HasSuffix(p, r.encryptedSuffix) })
	case r.unencryptedRegex != nil:
		return !any(r.unencryptedRegex.MatchString)
	case r.encryptedRegex != nil:
		return any(r.encryptedRegex.MatchString)
	case r.unencryptedComment != nil:
		for _, level := range cs {
			for _, c := range level {
				if r.unencryptedComment.MatchString(c) {
					return false
				}
			}
		}
		return true
	case r.encryptedComment != nil:
		for i, level := range cs {
			for j, c := range level {
				// A comment that matches is itself left in clear: only
				// the comments above it count for it.
				if isComment && i == len(cs)-1 && j == len(level)-1 {
					continue
				}
				if r.encryptedComment.MatchString(c) {
					return true
				}
			}
		}
		return false
	}
	return true
}
