package packindex

import (
	"bufio"
	"bytes"
	"testing"

	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/stretchr/testify/require"
)

func TestPatch(t *testing.T) {
	base := []byte("abcdefghijklmnopqrst")
	cases := []struct {
		name  string
		delta []byte
		want  string // "" for a refusal
	}{
		// go-git/go-git#2378: a copy going back, then forward.
		{"copies in any order", []byte{20, 3, 0x91, 10, 1, 0x90, 1, 0x91, 13, 1}, "kan"},
		{"inserts", []byte{20, 5, 0x91, 2, 2, 3, 'x', 'y', 'z'}, "cdxyz"},
		{"size 0 is 64 KiB", []byte{20, 0x80, 0x80, 0x04, 0x80}, ""},
		{"copy past the base", []byte{20, 2, 0x91, 19, 2}, ""},
		{"more than the result", []byte{20, 1, 0x90, 2}, ""},
		{"reserved instruction", []byte{20, 1, 0}, ""},
		{"truncated insert", []byte{20, 3, 3, 'x'}, ""},
		{"trailing bytes", []byte{20, 1, 0x90, 1, 0x90}, ""},
		{"wrong base size", []byte{19, 1, 0x90, 1}, ""},
	}
	ix := &indexer{budget: 1 << 20}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ix.hold(int64(len(base)))
			require.NoError(t, err)
			_, err = c.Write(base)
			require.NoError(t, err)
			var hd deltaHeader
			_, _ = hd.Write(tc.delta)
			_, err = hd.targetSize()
			require.NoError(t, err)
			var out bytes.Buffer
			br := bufio.NewReader(bytes.NewReader(tc.delta))
			size, err := sizes(br, int64(len(base)))
			if err == nil {
				err = patch(&out, c, br, size, make([]byte, 128))
			}
			if tc.want == "" {
				require.ErrorIs(t, err, packfile.ErrInvalidDelta)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, out.String())
		})
	}
}
