package e2e

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/testing/cluster"
	"github.com/syncgate/syncgate/testing/demo"
)

// TestDemo is `make demo` without a terminal: the same journey, to the end.
func TestDemo(t *testing.T) {
	cluster.Shared(t) // skipped with -short, like every test that needs a control plane
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var out bytes.Buffer
	res, err := demo.Run(ctx, demo.Options{Out: &out, Tag: "2.3.4"})
	require.NoError(t, err, out.String())
	require.Contains(t, res.WaitOutput, res.BumpSHA[:7]+" deployed in")
	require.Contains(t, res.WaitOutput, "rolling out")
	require.Contains(t, res.Markers, "local/demo/web/"+res.BumpSHA)
	require.Contains(t, res.Markers, "local/demo/web/"+res.BumpSHA[:7])
	require.Contains(t, res.Markers, "local/demo/_result/"+res.BumpSHA+".json")
}
