package soak

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// -kinds and -faults read a comma-separated list and name the first
// unknown entry.
func TestParseKindsAndFaults(t *testing.T) {
	kinds, err := ParseKinds(" good, burst ,rollback")
	require.NoError(t, err)
	require.Equal(t, []Kind{Good, Burst, Rollback}, kinds)
	for _, all := range []string{"", " all "} {
		kinds, err = ParseKinds(all)
		require.NoError(t, err)
		require.Nil(t, kinds, "every kind")
	}
	for s, bad := range map[string]string{"initial": `"initial"`, "good,,crashloop": `""`, "good,bogus": `"bogus"`} {
		_, err = ParseKinds(s)
		require.ErrorContains(t, err, "unknown commit kind "+bad, s)
	}

	faults, err := ParseFaults("git-down, s3-down")
	require.NoError(t, err)
	require.Equal(t, []FaultKind{GitDown, S3Down}, faults)
	faults, err = ParseFaults("all")
	require.NoError(t, err)
	require.Equal(t, FaultKinds, faults)
	faults, err = ParseFaults("none")
	require.NoError(t, err)
	require.Empty(t, faults)
	_, err = ParseFaults("git-down,nope")
	require.ErrorContains(t, err, `unknown fault "nope"`)
}
