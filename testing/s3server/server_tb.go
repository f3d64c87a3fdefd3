package s3server

import (
	"context"
	"testing"
)

// StartT starts a server for one test and closes it when the test ends.
// In -short mode the test is skipped: the server is a separate binary,
// built on first use.
func StartT(t testing.TB, opts Options) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the S3 server (not in -short mode)")
	}
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	s, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("start S3 server: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// BucketT creates a bucket, failing the test on error, and returns its name.
func (s *Server) BucketT(t testing.TB, name string) string {
	t.Helper()
	if err := s.CreateBucket(context.Background(), name); err != nil {
		t.Fatal(err)
	}
	return name
}
