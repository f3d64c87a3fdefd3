package benchenv

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTable(t *testing.T) {
	var b strings.Builder
	tb := Table{W: &b, NameWidth: 6, CellWidth: 3}
	tb.Head("MB", "a", "bb")
	tb.Row("idle", "1", "22")
	require.Equal(t, ""+
		"| MB     | a   | bb  |\n"+
		"|--------|-----|-----|\n"+
		"| idle   | 1   | 22  |\n", b.String())
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 2500: "2,500", 1234567: "1,234,567", -10000: "-10,000"} {
		require.Equal(t, want, Thousands(n), "%d", n)
	}
}
