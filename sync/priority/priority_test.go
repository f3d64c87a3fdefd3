package priority_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncgate/syncgate/sync/priority"
)

func TestWaitHoldsBackWhileAnySyncWorks(t *testing.T) {
	g := priority.New()
	require.NoError(t, g.Wait(context.Background()), "free: no wait")

	endA := g.Begin()
	endB := g.Begin()
	done := make(chan error, 1)
	go func() { done <- g.Wait(context.Background()) }()
	require.Eventually(t, func() bool { return g.Waiting() == 1 }, waitFor, tick)

	endA()
	endA() // a second end is no second release
	require.True(t, g.Busy(), "B still works")
	require.Equal(t, 1, g.Waiting())

	endB()
	require.NoError(t, <-done)
	require.False(t, g.Busy())
}

func TestWaitEndsWithItsContext(t *testing.T) {
	g := priority.New()
	defer g.Begin()()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Wait(ctx) }()
	require.Eventually(t, func() bool { return g.Waiting() == 1 }, waitFor, tick)
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	require.Zero(t, g.Waiting())
}

func TestNilGateHoldsNothingBack(t *testing.T) {
	var g *priority.Gate
	g.Begin()()
	require.NoError(t, g.Wait(context.Background()))
	require.False(t, g.Busy())
}

const (
	waitFor = 10 * time.Second
	tick    = time.Millisecond
)

// A Step's context ends with ErrGaveWay when a sync begins, and not when
// the step is done first; a nil Gate's steps never give way.
func TestStepGivesWayToASync(t *testing.T) {
	g := priority.New()
	step, done, err := g.Step(context.Background())
	require.NoError(t, err)
	require.NoError(t, step.Err())

	end := g.Begin()
	<-step.Done()
	require.True(t, priority.GaveWay(step))
	done()
	end()

	step, done, err = g.Step(context.Background())
	require.NoError(t, err)
	done()
	end = g.Begin()
	require.False(t, priority.GaveWay(step), "a step done before the sync began")
	end()

	var none *priority.Gate
	step, done, err = none.Step(context.Background())
	require.NoError(t, err)
	none.Begin()()
	require.NoError(t, step.Err())
	done()
}
