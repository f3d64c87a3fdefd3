package gitserver

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Options configure a Server.
type Options struct {
	// Dir holds the repositories; a temp dir removed on Close when empty.
	Dir string
	// Token, when set, is required as the basic-auth password over HTTP.
	Token string
	// SSH starts an sshd as well (needs Debian's openssh-server).
	SSH bool
}

// Server is a running git server.
type Server struct {
	opts   Options
	dir    string
	ownDir bool
	http   *http.Server
	ln     net.Listener
	sshd   *sshd

	closeOnce sync.Once
}

// Start serves the repositories under a fresh directory.
func Start(ctx context.Context, opts Options) (s *Server, err error) {
	s = &Server{opts: opts, dir: opts.Dir}
	if s.dir == "" {
		if s.dir, err = os.MkdirTemp("", "syncgate-git-"); err != nil {
			return nil, err
		}
		s.ownDir = true
	}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if err := os.MkdirAll(filepath.Join(s.dir, "repos"), 0o755); err != nil {
		return nil, err
	}
	execPath, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		return nil, fmt.Errorf("git not found: %w", err)
	}
	backend := &cgi.Handler{
		Path: filepath.Join(strings.TrimSpace(string(execPath)), "git-http-backend"),
		Env: []string{
			"GIT_PROJECT_ROOT=" + filepath.Join(s.dir, "repos"),
			"GIT_HTTP_EXPORT_ALL=1",
		},
	}
	s.ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.http = &http.Server{Handler: s.auth(backend), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.http.Serve(s.ln) }()
	if opts.SSH {
		if s.sshd, err = startSSHD(ctx, filepath.Join(s.dir, "ssh")); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// auth requires the token as basic-auth password and lets pushes through
// (http-backend refuses receive-pack for anonymous users).
func (s *Server) auth(next *cgi.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user := "anonymous"
		if s.opts.Token != "" {
			u, pass, ok := r.BasicAuth()
			if !ok || subtle.ConstantTimeCompare([]byte(pass), []byte(s.opts.Token)) != 1 {
				w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			user = u
		}
		h := *next
		h.Env = append(append([]string{}, next.Env...), "REMOTE_USER="+user)
		h.ServeHTTP(w, r)
	})
}

// HTTPURL is the smart-HTTP URL of a repository.
func (s *Server) HTTPURL(name string) string {
	return fmt.Sprintf("http://%s/%s.git", s.ln.Addr(), name)
}

// HTTPURLWithToken embeds the token, for the git command line.
func (s *Server) HTTPURLWithToken(name string) string {
	if s.opts.Token == "" {
		return s.HTTPURL(name)
	}
	return fmt.Sprintf("http://git:%s@%s/%s.git", s.opts.Token, s.ln.Addr(), name)
}

// SSHURL is the ssh:// URL of a repository (SSH must be on).
func (s *Server) SSHURL(name string) string {
	if s.sshd == nil {
		return ""
	}
	return fmt.Sprintf("ssh://%s@%s%s", s.sshd.user, s.sshd.addr, s.repoPath(name))
}

// SSHKeyPath is the client private key accepted by the sshd.
func (s *Server) SSHKeyPath() string {
	if s.sshd == nil {
		return ""
	}
	return s.sshd.clientKey
}

// KnownHostsPath holds the sshd's host key, for host verification.
func (s *Server) KnownHostsPath() string {
	if s.sshd == nil {
		return ""
	}
	return s.sshd.knownHosts
}

func (s *Server) repoPath(name string) string { return filepath.Join(s.dir, "repos", name+".git") }

// Close stops the servers and removes what Start created.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		if s.http != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			err = s.http.Shutdown(ctx)
			cancel()
		}
		if s.sshd != nil {
			s.sshd.stop()
		}
		if s.ownDir {
			err = errors.Join(err, os.RemoveAll(s.dir))
		}
	})
	return err
}
