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
