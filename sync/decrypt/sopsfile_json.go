package decrypt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// readJSON reads a SOPS JSON document (SOPS's binary format is one too:
// the file is the string value of its data key) in file order.
func readJSON(in []byte) (*document, error) {
	dec := json.NewDecoder(bytes.NewReader(in))
	dec.UseNumber()
	t, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	if t != json.Delim('{') {
		return nil, errors.New("a JSON document that is not an object")
	}
	top, err := jsonObject(dec)
	if err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	doc := &document{}
	var raw []byte
	for i := 0; i < len(top); {
		if top[i].key != "sops" {
			i++
			continue
		}
		if raw != nil {
			return nil, errors.New("more than one sops section")
		}
		if raw, err = json.Marshal(plainValue(top[i].value)); err != nil {
			return nil, err
		}
		top = append(top[:i], top[i+1:]...)
	}
	if raw != nil {
		doc.meta = &metadata{}
		if err := json.Unmarshal(raw, doc.meta); err != nil {
			return nil, errors.New("its sops section is not a mapping SOPS writes")
		}
	}
	doc.trees = []mapping{top}
	doc.emit = func() ([]byte, error) { return emitJSON(top) }
	return doc, nil
}

func jsonObject(dec *json.Decoder) (mapping, error) {
	m := mapping{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := t.(string)
		if !ok {
			return nil, errors.New("an object key that is not a string")
		}
		v, err := jsonValue(dec)
		if err != nil {
			return nil, err
		}
		m = append(m, entry{key: key, value: v})
	}
	_, err := dec.Token() // '}'
	return m, err
}

func jsonValue(dec *json.Decoder) (any, error) {
	t, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := t.(type) {
	case json.Delim:
		if t == '{' {
			return jsonObject(dec)
		}
		s := sequence{}
		for dec.More() {
			v, err := jsonValue(dec)
			if err != nil {
				return nil, err
			}
			s = append(s, v)
		}
		_, err := dec.Token() // ']'
		return s, err
	case json.Number:
		// Integers as SOPS reads them (int), anything else float64.
		if i, err := t.Int64(); err == nil {
			return &leaf{v: int(i)}, nil
		}
		f, err := t.Float64()
		return &leaf{v: f}, err
	case nil:
		return nil, nil
	}
	return &leaf{v: t}, nil
}

// plainValue turns the model back into Go values, keys sorted.
func plainValue(v any) any {
	switch v := v.(type) {
	case mapping:
		out := map[string]any{}
		for _, e := range v {
			if e.comment == nil {
				out[e.key] = plainValue(e.value)
			}
		}
		return out
	case sequence:
		out := []any{}
		for _, it := range v {
			if _, ok := it.(*commentLine); !ok {
				out = append(out, plainValue(it))
			}
		}
		return out
	case *leaf:
		return v.v
	}
	return nil
}

// emitJSON writes the model in order, as SOPS writes decrypted JSON:
// one key or item a line, not indented.
func emitJSON(m mapping) ([]byte, error) {
	var b bytes.Buffer
	if err := writeJSON(&b, m); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b.Bytes(), "", ""); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

func writeJSON(b *bytes.Buffer, v any) error {
	switch v := v.(type) {
	case mapping:
		b.WriteByte('{')
		n := 0
		for _, e := range v {
			if e.comment != nil {
				continue
			}
			if n > 0 {
				b.WriteByte(',')
			}
			n++
			k, _ := json.Marshal(e.key)
			b.Write(k)
			b.WriteString(": ")
			if err := writeJSON(b, e.value); err != nil {
				return err
			}
		}
		b.WriteByte('}')
		return nil
	case sequence:
		b.WriteByte('[')
		n := 0
		for _, it := range v {
			if _, ok := it.(*commentLine); ok {
				continue
			}
			if n > 0 {
				b.WriteByte(',')
			}
			n++
			if err := writeJSON(b, it); err != nil {
				return err
			}
		}
		b.WriteByte(']')
		return nil
	case *leaf:
		out, err := json.Marshal(v.v)
		b.Write(out)
		return err
	}
	b.WriteString("null")
	return nil
}

// emitBinary writes what SOPS's binary format holds: the data string.
func emitBinary(m mapping) ([]byte, error) {
	for _, e := range m {
		if e.key != "data" || e.comment != nil {
			continue
		}
		if l, ok := e.value.(*leaf); ok {
			if s, ok := l.v.(string); ok {
				return []byte(s), nil
			}
		}
		return nil, errors.New("its data is not a string")
	}
	return nil, errors.New("it has no data")
}
