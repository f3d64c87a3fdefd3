package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/syncgate/syncgate/status/version"
)

type announced struct {
	fail   map[string]bool
	writes []string
}

func (a *announced) Announce(_ context.Context, ns, _ string) error {
	a.writes = append(a.writes, ns)
	if a.fail[ns] {
		return errors.New("conflict")
	}
	return nil
}

type seen map[string]*version.Version

func (s seen) Get(ns string) *version.Version { return s[ns] }

func TestOneAnnouncementWakesEveryLeader(t *testing.T) {
	const head = "bbbb"
	var namespaces []string
	versions := seen{}
	for i := range 60 {
		ns := fmt.Sprintf("team-%02d", i)
		namespaces = append(namespaces, ns)
		versions[ns] = &version.Version{Status: version.VersionStatus{Head: "aaaa"}}
	}
	leadsNone := func(string) bool { return false }
	cases := []struct {
		name  string
		setup func(seen, *announced) func(string) bool
		want  []string
	}{
		{"one write for sixty namespaces", func(seen, *announced) func(string) bool { return leadsNone }, []string{"team-00"}},
		{"not on a namespace led here", func(seen, *announced) func(string) bool {
			return func(ns string) bool { return ns == "team-00" }
		}, []string{"team-01"}},
		{"not where the head is taken up", func(v seen, _ *announced) func(string) bool {
			v["team-00"] = &version.Version{Status: version.VersionStatus{Head: head}}
			return leadsNone
		}, []string{"team-01"}},
		{"a failed write tries the next", func(_ seen, a *announced) func(string) bool {
			a.fail = map[string]bool{"team-00": true}
			return leadsNone
		}, []string{"team-00", "team-01"}},
		{"nothing when announced already", func(v seen, _ *announced) func(string) bool {
			v["team-00"] = &version.Version{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{version.HeadAnnotation: head}}}
			return leadsNone
		}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := seen{}
			for k, x := range versions {
				v[k] = x
			}
			a := &announced{}
			leads := tc.setup(v, a)
			announce(context.Background(), a, v, leads, namespaces, head, slog.New(slog.DiscardHandler))
			require.Equal(t, tc.want, a.writes)
		})
	}
}
