package benchenv

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestWorkDir(t *testing.T) {
	for _, keep := range []bool{false, true} {
		dir, done, err := WorkDir("test", keep)
		require.NoError(t, err)
		require.DirExists(t, dir)
		done()
		if keep {
			require.DirExists(t, dir, "kept for its logs")
			require.NoError(t, os.RemoveAll(dir))
		} else {
			require.NoDirExists(t, dir)
		}
	}
}
