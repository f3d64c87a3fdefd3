package sopstest

import (
	"bytes"
	"errors"
)

// Crowd is a SOPS YAML document as a hostile commit could write it: its
// first age key written n more times ahead of its age keys, each copy
// labelled recipient ("" keeps the key's own). Each copy is a real age
// ciphertext that an offered identity must try before the keys after it.
func Crowd(doc []byte, n int, recipient string) ([]byte, error) {
	const list, item = "\n    age:\n", "        - enc: |\n"
	start := bytes.Index(doc, []byte(list))
	if start < 0 {
		return nil, errors.New("sopstest: no age keys at the top of the sops section")
	}
	start += len(list)
	end := bytes.Index(doc[start+len(item):], []byte(item))
	if end < 0 {
		end = bytes.Index(doc[start:], []byte("\n    ")) // the section's next field
		if end < 0 {
			return nil, errors.New("sopstest: the sops section ends after its age keys")
		}
		end += start + 1
	} else {
		end += start + len(item)
	}
	key := doc[start:end]
	if recipient != "" {
		at := bytes.Index(key, []byte("recipient: "))
		if at < 0 {
			return nil, errors.New("sopstest: an age key without a recipient")
		}
		eol := bytes.IndexByte(key[at:], '\n')
		key = append(append(append([]byte{}, key[:at+len("recipient: ")]...), recipient...), key[at+eol:]...)
	}
	out := append([]byte{}, doc[:start]...)
	out = append(out, bytes.Repeat(key, n)...)
	return append(out, doc[start:]...), nil
}
