package demo

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestStaysUpOnlyWithSomeoneToPressCtrlC(t *testing.T) {
	for _, tc := range []struct {
		name string
		once bool
		ci   string
		want bool
	}{
		{name: "a terminal", want: true},
		{name: "--once", once: true, want: false},
		{name: "CI=true", ci: "true", want: false},
		{name: "CI=1", ci: "1", want: false},
		{name: "CI=yes", ci: "yes", want: false},
		{name: "CI=false", ci: "false", want: true},
		{name: "CI=0", ci: "0", want: true},
		{name: "--once and CI=false", once: true, ci: "false", want: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"CI": tc.ci}
			require.Equal(t, tc.want, StaysUp(tc.once, func(k string) string { return env[k] }))
		})
	}
}
