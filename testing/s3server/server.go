package s3server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/syncgate/syncgate/testing/proc"
)

// Options configure a Server.
type Options struct {
	// Dir holds the buckets; a temp dir removed on Close when empty.
	Dir string
}

// Server is a running S3 server.
type Server struct {
	dir, bin       string
	ownDir         bool
	addr           string
	access, secret string

	mu   sync.Mutex
	proc *proc.Proc
}

const region = "us-east-1"

// Start builds (or reuses) versitygw and serves a fresh data directory.
func Start(ctx context.Context, opts Options) (s *Server, err error) {
	bindir, err := Versitygw.Ensure(ctx, nil)
	if err != nil {
		return nil, err
	}
	s = &Server{dir: opts.Dir, bin: filepath.Join(bindir, "versitygw"), access: "sg" + randHex(8), secret: randHex(20)}
	if s.dir == "" {
		if s.dir, err = os.MkdirTemp("", "syncgate-s3-"); err != nil {
			return nil, err
		}
		s.ownDir = true
	}
	if err := os.MkdirAll(filepath.Join(s.dir, "data"), 0o755); err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.addr = l.Addr().String()
	l.Close()
	if err := s.start(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *Server) start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cmd := exec.Command(s.bin, "--port", s.addr, "--quiet", "posix", filepath.Join(s.dir, "data"))
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY_ID="+s.access, "ROOT_SECRET_ACCESS_KEY="+s.secret)
	p, err := proc.Start("versitygw", cmd, filepath.Join(s.dir, "versitygw.log"))
	if err != nil {
		return err
	}
	s.proc = p
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-p.Done():
			return fmt.Errorf("versitygw exited: %s", p.LogTail(3000))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return errors.New("versitygw did not listen in 30s")
		}
	}
}

// Stop ends the server, keeping its data and port for Restart.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return
	}
	s.proc.Stop(5 * time.Second)
	s.proc = nil
}

// Restart brings a stopped server back on the same port and data.
func (s *Server) Restart(ctx context.Context) error { return s.start(ctx) }

// Close stops the server and removes what Start created.
func (s *Server) Close() {
	s.Stop()
	if s.ownDir {
		_ = os.RemoveAll(s.dir)
	}
}

// Endpoint is the server's URL.
func (s *Server) Endpoint() string { return "http://" + s.addr }

// AccessKey and SecretKey are the root credentials.
func (s *Server) AccessKey() string { return s.access }

// SecretKey is the root secret.
func (s *Server) SecretKey() string { return s.secret }

// Region is the server's region.
func (s *Server) Region() string { return region }

// Env is the environment a process needs to reach the server with the AWS SDK.
func (s *Server) Env() []string {
	return []string{"AWS_ACCESS_KEY_ID=" + s.access, "AWS_SECRET_ACCESS_KEY=" + s.secret, "AWS_REGION=" + region}
}

// Client is a path-style client with the root credentials.
func (s *Server) Client() *s3.Client {
	return s3.New(s3.Options{
		Region:       region,
		BaseEndpoint: aws.String(s.Endpoint()),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s.access, s.secret, ""),
		Retryer:      aws.NopRetryer{},
	})
}

// CreateBucket makes a bucket.
func (s *Server) CreateBucket(ctx context.Context, name string) error {
	_, err := s.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
	return err
}
