package readiness

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestProgressIsPaced(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	pc := pacer{every: time.Second}

	require.True(t, pc.offer(Progress{Ready: 0, Total: 250}, at(0)), "the first state at once")
	_, held := pc.due()
	require.False(t, held)

	require.False(t, pc.offer(Progress{Ready: 0, Total: 250}, at(10)), "no change, nothing to report")
	for i, ms := range []int{100, 200, 300} {
		require.False(t, pc.offer(Progress{Ready: i + 1, Total: 250}, at(ms)), "a change within a second of the last report waits")
	}
	due, held := pc.due()
	require.True(t, held, "the latest change is held")
	require.Equal(t, at(1000), due, "until a second after the last report")

	require.True(t, pc.offer(Progress{Ready: 3, Total: 250}, due), "reported when its time comes, though nothing changed since")
	_, held = pc.due()
	require.False(t, held)

	require.False(t, pc.offer(Progress{Ready: 4, Total: 250}, at(1500)))
	require.True(t, pc.offer(Progress{Ready: 250, Total: 250}, at(1600)), "the end at once")
	_, held = pc.due()
	require.False(t, held)
}

func TestProgressBackToWhatWasReportedIsNotHeld(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	pc := pacer{every: time.Second}
	require.True(t, pc.offer(Progress{Ready: 1, Total: 2}, t0))
	require.False(t, pc.offer(Progress{Ready: 0, Total: 2}, t0.Add(100*time.Millisecond)))
	require.False(t, pc.offer(Progress{Ready: 1, Total: 2}, t0.Add(200*time.Millisecond)))
	_, held := pc.due()
	require.False(t, held, "what is reported already is not reported again")
}
