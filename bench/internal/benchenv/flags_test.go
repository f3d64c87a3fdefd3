package benchenv

import (
	"flag"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestListReplacesItsDefault(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want List
	}{
		{nil, List{"one", "many"}},
		{[]string{"-l", "many"}, List{"many"}},
		{[]string{"-l", "a=1,b=2"}, List{"a=1", "b=2"}},
		{[]string{"-l", ""}, nil},
	} {
		l := List{"one", "many"}
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.Var(&l, "l", "")
		require.NoError(t, fs.Parse(tc.args))
		require.Equal(t, tc.want, l, tc.args)
	}
	require.True(t, List{"one", "many"}.Has("many"))
	require.False(t, List{"one"}.Has("many"))
}
