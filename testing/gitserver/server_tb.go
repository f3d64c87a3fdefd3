package gitserver

import (
	"context"
	"testing"
)

// StartT starts a server for one test and closes it when the test ends.
func StartT(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("start git server: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close git server: %v", err)
		}
	})
	return s
}

// CreateRepoT is CreateRepo failing the test on error.
func (s *Server) CreateRepoT(t testing.TB, name string) *Repo {
	t.Helper()
	r, err := s.CreateRepo(name)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// CommitT is CommitFiles failing the test on error.
func (r *Repo) CommitT(t testing.TB, msg string, files map[string]string) string {
	t.Helper()
	sha, err := r.CommitFiles(msg, files)
	if err != nil {
		t.Fatal(err)
	}
	return sha
}
