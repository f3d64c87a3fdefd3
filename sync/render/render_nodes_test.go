package render_test

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/sync/render"
)

// wideConfigMaps is files plain files, each one ConfigMap of keys short
// entries: under FileBytes each, far more than the agent can hold in all.
func wideConfigMaps(files, keys int) fstest.MapFS {
	tree := fstest.MapFS{}
	for f := 0; f < files; f++ {
		var sb strings.Builder
		fmt.Fprintf(&sb, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: wide%02d}\ndata:\n", f)
		for k := 0; k < keys; k++ {
			fmt.Fprintf(&sb, "  k%d: v\n", k)
		}
		tree[fmt.Sprintf("team/wide%02d.yaml", f)] = file(sb.String())
	}
	return tree
}

// peakHeap renders tree, sampling the live heap while it runs, and
// returns the most the heap grew and the render's error.
func peakHeap(r *render.Renderer, tree fstest.MapFS) (uint64, error) {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	base := sample[0].Value.Uint64()
	done := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		var top uint64
		for {
			select {
			case <-done:
				peak <- top
				return
			default:
			}
			metrics.Read(sample)
			top = max(top, sample[0].Value.Uint64())
			runtime.Gosched()
		}
	}()
	_, err := r.Render(tree, "team")
	close(done)
	top := <-peak
	return top - min(top, base), err
}

func TestNodesBoundWhatTheAgentDecodes(t *testing.T) {
	tree := wideConfigMaps(32, 80_000) // 2.56M entries
	size := 0
	for _, f := range tree {
		require.Less(t, len(f.Data), 1<<20, "each file is under FileBytes")
		size += len(f.Data)
	}
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(224 << 20)) // the agent's, deploy/
	peak, err := peakHeap(newRenderer(t, nil), tree)
	require.ErrorIs(t, err, render.ErrTooLarge)
	var re *render.Error
	require.ErrorAs(t, err, &re)
	require.Regexp(t, `^team/wide\d\d.yaml$`, re.File)
	require.Contains(t, re.Err.Error(), "limit of 1000000 YAML/JSON nodes")
	t.Logf("%d files, %d bytes, heap at most %d MiB: %v", len(tree), size, peak>>20, err)
	require.Less(t, peak, uint64(200<<20), "the heap stays well under the agent's memory limit")
}

// The largest render Objects allows, 5,000 Deployments, is far under Nodes.
func TestNodesLeaveRoomForLegitimateRenders(t *testing.T) {
	tree := fstest.MapFS{}
	for f := 0; f < 5; f++ {
		var sb strings.Builder
		for i := 0; i < 1000; i++ {
			fmt.Fprintf(&sb, deployment, f*1000+i)
		}
		tree[fmt.Sprintf("team/many%d.yaml", f)] = file(sb.String())
	}
	objs, err := newRenderer(t, nil).Render(tree, "team")
	require.NoError(t, err)
	require.Len(t, objs, 5000)
}

const deployment = `---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web%05d, labels: {app: web, tier: front, team: shop}}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web, tier: front}}
    spec:
      containers:
      - name: web
        image: registry.example/web:1.2.3
        args: [--port=8080, --log=json]
        ports: [{containerPort: 8080, name: http}]
        env: [{name: A, value: "1"}, {name: B, value: "2"}, {name: C, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]
        resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {memory: 128Mi}}
        readinessProbe: {httpGet: {path: /healthz, port: http}, periodSeconds: 5}
        volumeMounts: [{name: conf, mountPath: /etc/web}]
      volumes: [{name: conf, configMap: {name: web}}]
`

// A kustomize build's output is counted before the agent decodes it.
func TestNodesBoundWhatABuildReturns(t *testing.T) {
	tree := wideConfigMaps(1, 2000)
	tree["team/kustomization.yaml"] = file("resources: [wide00.yaml]\n")
	_, err := newRenderer(t, func(o *render.Options) { o.Limits.Nodes = 1000 }).Render(tree, "team")
	require.ErrorIs(t, err, render.ErrTooLarge)
	var re *render.Error
	require.ErrorAs(t, err, &re)
	require.Equal(t, "team/kustomization.yaml", re.File)
	require.Contains(t, re.Err.Error(), "resource 1 of the build takes the render past the limit of 1000 YAML/JSON nodes")

	objs, err := newRenderer(t, func(o *render.Options) { o.Limits.Nodes = 3000 }).Render(tree, "team")
	require.NoError(t, err)
	require.Len(t, objs, 1)
}
