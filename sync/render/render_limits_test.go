package render_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/sync/render"
)

// slowBuild takes kustomize about 5 s of processor time (its accumulation
// is quadratic in the objects).
func slowBuild() fstest.MapFS {
	return fstest.MapFS{"team/kustomization.yaml": file("resources: [many.yaml]\n"), "team/many.yaml": file(documents(3000))}
}

// bigBuild makes a ConfigMap of 20 MiB from 20 files, which takes
// kustomize a data segment of more than 256 MiB but little time.
func bigBuild() fstest.MapFS {
	tree := fstest.MapFS{}
	var files []string
	for i := 0; i < 20; i++ {
		name := fmt.Sprintf("f%02d.txt", i)
		tree["team/"+name] = file(strings.Repeat(string(rune('a'+i)), 1<<20))
		files = append(files, name)
	}
	tree["team/kustomization.yaml"] = file("configMapGenerator: [{name: big, files: [" + strings.Join(files, ", ") + "]}]\n")
	return tree
}

// The limits the build process's kernel enforces, past what the parent
// measures: memory and processor time.
func TestBuildBackstops(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tree   fstest.MapFS
		limits render.Limits
		reason string
	}{
		{"memory", bigBuild(), render.Limits{BuildMemory: 160 << 20}, `the kustomize build needs more than the memory limit of 160 MiB \(it last read team/f\d\d.txt\)`},
		{"processor time", slowBuild(), render.Limits{BuildTime: time.Second}, `the kustomize build used more than the limit of 1s of processor time \(it last read team/many.yaml\)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRenderer(t, func(o *render.Options) { o.Limits = tc.limits })
			start := time.Now()
			_, err := r.Render(tc.tree, "team")
			require.ErrorIs(t, err, render.ErrTooLarge)
			var re *render.Error
			require.ErrorAs(t, err, &re)
			require.Equal(t, "team/kustomization.yaml", re.File)
			require.Regexp(t, "^"+tc.reason+"$", re.Err.Error())
			t.Logf("refused after %v", time.Since(start))

			if tc.name == "memory" { // the refusal is the limit's: with room, it builds
				objs, err := newRenderer(t, func(o *render.Options) { o.Limits.BuildMemory = 1 << 30 }).Render(tc.tree, "team")
				require.NoError(t, err)
				require.Len(t, objs, 1)
			}
		})
	}
}

func TestRenderContextStopsTheBuild(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	_, err := newRenderer(t, nil).RenderContext(ctx, slowBuild(), "team")
	require.ErrorIs(t, err, context.Canceled)
	var re *render.Error
	require.False(t, errors.As(err, &re), "not the commit's fault")
	require.Less(t, time.Since(start), 3*time.Second, "the build is stopped, not waited for")

	// A render waiting for a build slot stops waiting too.
	r := newRenderer(t, nil) // one build at a time
	busy, stopBusy := context.WithCancel(context.Background())
	defer stopBusy()
	go func() { _, _ = r.RenderContext(busy, slowBuild(), "team") }()
	require.Eventually(t, func() bool { return render.BuildsInFlight(r) == 1 }, 5*time.Second, time.Millisecond, "the busy render holds the slot")
	waiting, cancelWaiting := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancelWaiting()
	_, err = r.RenderContext(waiting, slowBuild(), "team")
	require.ErrorIs(t, err, context.DeadlineExceeded)
}
