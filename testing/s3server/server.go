package s3server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/syncgate/syncgate/testing/proc"
)

// Options configure a Server.
type Options struct {
	// Dir holds the buckets and the log; when empty a temp dir is made and
	// removed on Close. A given Dir is left in place.
	Dir string
	// Region the server answers for; us-east-1 when empty.
	Region string
	// Logf, when set, hears about a first build of the binary.
	Logf func(format string, args ...any)
}

// Server is a versitygw process serving a posix directory on a loopback
// port, with root credentials generated for it.
type Server struct {
	dir, bin       string
	ownDir         bool
	addr           string
	region         string
	access, secret string

	mu   sync.Mutex
	proc *proc.Proc
}

// HealthPath answers 200 without credentials once the server is up.
const HealthPath = "/health"

// Start builds versitygw (or reuses the cached binary) and serves a fresh
// data directory until Close.
func Start(ctx context.Context, opts Options) (s *Server, err error) {
	bindir, err := Versitygw.Ensure(ctx, opts.Logf)
	if err != nil {
		return nil, fmt.Errorf("s3server: %w", err)
	}
	s = &Server{dir: opts.Dir, bin: filepath.Join(bindir, "versitygw"), region: opts.Region,
		access: "SG" + strings.ToUpper(randHex(9)), secret: randHex(20)}
	if s.region == "" {
		s.region = "us-east-1"
	}
	if s.dir == "" {
		if s.dir, err = os.MkdirTemp("", "syncgate-s3-"); err != nil {
			return nil, fmt.Errorf("s3server: %w", err)
		}
		s.ownDir = true
	}
	if err := os.MkdirAll(s.dataDir(), 0o755); err != nil {
		s.Close()
		return nil, fmt.Errorf("s3server: %w", err)
	}
	// The port is picked free, then bound by versitygw; should another
	// process take it in between, another one is tried.
	var errs []error
	for range 3 {
		addr, err := proc.FreeAddr()
		if err != nil {
			errs = append(errs, err)
			break
		}
		s.addr = addr
		err = s.start(ctx)
		if err == nil {
			return s, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	s.Close()
	return nil, fmt.Errorf("s3server: %w", errors.Join(errs...))
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *Server) dataDir() string { return filepath.Join(s.dir, "data") }

// env is the process environment without settings versitygw would take
// from it over its flags (VGW_*, root keys, log sinks).
func (s *Server) env() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "VGW_") || strings.HasPrefix(k, "ROOT_") || k == "LOGFILE" || k == "WEBHOOK" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "ROOT_ACCESS_KEY_ID="+s.access, "ROOT_SECRET_ACCESS_KEY="+s.secret)
}

func (s *Server) start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		return errors.New("already running")
	}
	cmd := exec.Command(s.bin, "--port", s.addr, "--region", s.region, "--health", HealthPath, "--quiet", "posix", s.dataDir())
	cmd.Env = s.env()
	cmd.Dir = s.dir
	p, err := proc.Start("versitygw", cmd, filepath.Join(s.dir, "versitygw.log"))
	if err != nil {
		return err
	}
	if err := s.waitReady(ctx, p); err != nil {
		p.Stop(5 * time.Second)
		return err
	}
	s.proc = p
	return nil
}

// waitReady polls the health endpoint, then makes one signed request, so
// a server that answers is ours and takes the credentials.
func (s *Server) waitReady(ctx context.Context, p *proc.Proc) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	hc := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		last = s.probe(ctx, hc)
		if last == nil {
			return nil
		}
		select {
		case <-p.Done():
			return fmt.Errorf("versitygw exited: %v: %s", p.Err(), p.LogTail(2000))
		case <-ctx.Done():
			return fmt.Errorf("versitygw on %s not ready: %w (last: %v): %s", s.addr, ctx.Err(), last, p.LogTail(2000))
		case <-tick.C:
		}
	}
}

func (s *Server) probe(ctx context.Context, hc *http.Client) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.Endpoint()+HealthPath, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health: %s", resp.Status)
	}
	_, err = s.Client().ListBuckets(ctx, &s3.ListBucketsInput{})
	return err
}

// Stop ends the server gracefully, keeping its data and port for Restart.
func (s *Server) Stop() { s.halt(false) }

// Kill ends the server at once, as a crash would.
func (s *Server) Kill() { s.halt(true) }

func (s *Server) halt(kill bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return
	}
	if kill {
		s.proc.Kill()
	} else {
		s.proc.Stop(5 * time.Second)
	}
	s.proc = nil
}

// Restart brings the server back on the same port and data; a running
// server is stopped first.
func (s *Server) Restart(ctx context.Context) error {
	s.Stop()
	if err := s.start(ctx); err != nil {
		return fmt.Errorf("s3server: restart: %w", err)
	}
	return nil
}

// Running reports whether the server process is up.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc != nil && !s.proc.Exited()
}

// Close stops the server and removes the directory Start made.
func (s *Server) Close() {
	s.Stop()
	if s.ownDir {
		_ = os.RemoveAll(s.dir)
	}
}

// Endpoint is the server's URL.
func (s *Server) Endpoint() string { return "http://" + s.addr }

// DataDir is the posix directory holding one directory per bucket.
func (s *Server) DataDir() string { return s.dataDir() }

// AccessKey is the root access key id.
func (s *Server) AccessKey() string { return s.access }

// SecretKey is the root secret access key.
func (s *Server) SecretKey() string { return s.secret }

// Region is the region the server signs for.
func (s *Server) Region() string { return s.region }

// Credentials are the root credentials for the AWS SDK.
func (s *Server) Credentials() aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(s.access, s.secret, "")
}

// Env is what a process needs to reach the server with an AWS SDK (the
// endpoint itself is configured separately).
func (s *Server) Env() []string {
	return []string{"AWS_ACCESS_KEY_ID=" + s.access, "AWS_SECRET_ACCESS_KEY=" + s.secret, "AWS_REGION=" + s.region}
}

// Client is a path-style client with the root credentials. It does not
// retry, so a stopped server fails the first request.
func (s *Server) Client() *s3.Client {
	return s3.New(s3.Options{
		Region:       s.region,
		BaseEndpoint: aws.String(s.Endpoint()),
		UsePathStyle: true,
		Credentials:  s.Credentials(),
		Retryer:      aws.NopRetryer{},
	})
}

// CreateBucket makes a bucket.
func (s *Server) CreateBucket(ctx context.Context, name string) error {
	if _, err := s.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		return fmt.Errorf("s3server: create bucket %s: %w", name, err)
	}
	return nil
}
