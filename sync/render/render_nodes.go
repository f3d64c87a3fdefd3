package render

// decodes counts the nodes of j, one object's JSON, against Nodes before
// it is decoded: each mapping entry and each sequence item (a scalar is
// one or the other, or the whole document). where names the object or the
// document in file.
func (b *budget) decodes(file, where string, j []byte) error {
	if b.nodes += jsonNodes(j); b.nodes > b.lim.Nodes {
		return fileErr(file, because(ErrTooLarge,
			"%s takes the render past the limit of %d YAML/JSON nodes decoded (each mapping entry and sequence item)", where, b.lim.Nodes))
	}
	return nil
}

// jsonNodes counts the mapping entries and sequence items of j, plus one
// for the root, without decoding it: the ':' and the items outside
// strings. An empty sequence counts one.
func jsonNodes(j []byte) int {
	n := 1
	var seq []bool // for each open container: is it a sequence
	in, esc := false, false
	for _, c := range j {
		if in {
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				in = false
			}
			continue
		}
		switch c {
		case '"':
			in = true
		case ':':
			n++
		case '[':
			seq = append(seq, true)
			n++
		case '{':
			seq = append(seq, false)
		case ']', '}':
			if len(seq) > 0 {
				seq = seq[:len(seq)-1]
			}
		case ',':
			if len(seq) > 0 && seq[len(seq)-1] {
				n++
			}
		}
	}
	return n
}
