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
	// Dir holds the repositories, keys and logs; when empty a temp dir is
	// made and removed on Close. A given Dir is left in place.
	Dir string
	// Token, when set, is required over HTTP as the basic-auth password.
	Token string
	// Username, when set along with Token, is the only basic-auth user
	// accepted; otherwise any user name goes.
	Username string
	// SSH starts an OpenSSH sshd as well (Debian's openssh-server).
	SSH bool
}

// Server is a running git server: smart HTTP always, SSH when asked.
type Server struct {
	opts   Options
	dir    string
	ownDir bool
	ln     net.Listener
	http   *http.Server
	cgiLog *os.File
	sshd   *sshd

	closeOnce sync.Once
	closeErr  error
}

// Start serves repositories created with CreateRepo until Close.
func Start(ctx context.Context, opts Options) (s *Server, err error) {
	if opts.Username != "" && opts.Token == "" {
		return nil, errors.New("gitserver: a username needs a token")
	}
	s = &Server{opts: opts, dir: opts.Dir}
	if s.dir == "" {
		if s.dir, err = os.MkdirTemp("", "syncgate-git-"); err != nil {
			return nil, fmt.Errorf("gitserver: %w", err)
		}
		s.ownDir = true
	}
	defer func() {
		if err != nil {
			_ = s.Close()
			s = nil
		}
	}()
	for _, d := range []string{"repos", "work"} {
		if err := os.MkdirAll(filepath.Join(s.dir, d), 0o755); err != nil {
			return nil, fmt.Errorf("gitserver: %w", err)
		}
	}
	if err := s.startHTTP(ctx); err != nil {
		return nil, fmt.Errorf("gitserver: %w", err)
	}
	if opts.SSH {
		if s.sshd, err = startSSHD(ctx, filepath.Join(s.dir, "ssh")); err != nil {
			return nil, fmt.Errorf("gitserver: %w", err)
		}
	}
	return s, nil
}

func (s *Server) startHTTP(ctx context.Context) error {
	out, err := exec.CommandContext(ctx, "git", "--exec-path").Output()
	if err != nil {
		return fmt.Errorf("git --exec-path (is git installed?): %w", err)
	}
	backend := filepath.Join(strings.TrimSpace(string(out)), "git-http-backend")
	if _, err := os.Stat(backend); err != nil {
		return fmt.Errorf("git http-backend: %w", err)
	}
	if s.cgiLog, err = os.OpenFile(filepath.Join(s.dir, "http-backend.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err != nil {
		return err
	}
	h := &cgi.Handler{
		Path: backend,
		Dir:  s.dir,
		Env: []string{
			"GIT_PROJECT_ROOT=" + filepath.Join(s.dir, "repos"),
			"GIT_HTTP_EXPORT_ALL=1",
			"GIT_CONFIG_NOSYSTEM=1",
			"GIT_CONFIG_GLOBAL=" + os.DevNull,
		},
		Stderr: s.cgiLog,
	}
	if s.ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return err
	}
	s.http = &http.Server{Handler: s.auth(h), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.http.Serve(s.ln) }()
	return nil
}

// auth checks the token and names the user to http-backend: with
// REMOTE_USER set (and http.receivepack on in each repository) pushes are
// served as well as fetches.
func (s *Server) auth(next *cgi.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user := "anonymous"
		if s.opts.Token != "" {
			u, pass, ok := r.BasicAuth()
			if !ok || subtle.ConstantTimeCompare([]byte(pass), []byte(s.opts.Token)) != 1 ||
				(s.opts.Username != "" && u != s.opts.Username) {
				w.Header().Set("WWW-Authenticate", `Basic realm="git", charset="UTF-8"`)
				http.Error(w, "authentication required", http.StatusUnauthorized)
				return
			}
			user = u
		}
		h := *next
		h.Env = append(append([]string{}, next.Env...), "REMOTE_USER="+user)
		h.ServeHTTP(w, r)
	})
}

// HTTPAddr is the host:port of the smart-HTTP endpoint.
func (s *Server) HTTPAddr() string { return s.ln.Addr().String() }

// HTTPURL is the smart-HTTP URL of a repository, without credentials.
func (s *Server) HTTPURL(name string) string {
	return fmt.Sprintf("http://%s/%s.git", s.HTTPAddr(), name)
}

// HTTPURLWithToken embeds the credentials, for the git command line.
func (s *Server) HTTPURLWithToken(name string) string {
	if s.opts.Token == "" {
		return s.HTTPURL(name)
	}
	user := s.opts.Username
	if user == "" {
		user = "git"
	}
	return fmt.Sprintf("http://%s:%s@%s/%s.git", user, s.opts.Token, s.HTTPAddr(), name)
}

// SSHURL is the ssh:// URL of a repository ("" without SSH).
func (s *Server) SSHURL(name string) string {
	if s.sshd == nil {
		return ""
	}
	return fmt.Sprintf("ssh://%s@%s%s", s.sshd.user, s.sshd.addr, s.RepoPath(name))
}

// SSHUser is the login the sshd accepts: the user running it.
func (s *Server) SSHUser() string {
	if s.sshd == nil {
		return ""
	}
	return s.sshd.user
}

// SSHKeyPath is the client private key (OpenSSH format, no passphrase) the
// sshd accepts.
func (s *Server) SSHKeyPath() string {
	if s.sshd == nil {
		return ""
	}
	return s.sshd.clientKey
}

// KnownHostsPath is a known_hosts file naming the sshd's host key.
func (s *Server) KnownHostsPath() string {
	if s.sshd == nil {
		return ""
	}
	return s.sshd.knownHosts
}

// SSHCommand is a GIT_SSH_COMMAND using the client key and known_hosts,
// for the git command line.
func (s *Server) SSHCommand() string {
	if s.sshd == nil {
		return ""
	}
	return fmt.Sprintf("ssh -F none -i %s -o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes -o BatchMode=yes",
		s.sshd.clientKey, s.sshd.knownHosts)
}

// RepoPath is the bare repository's absolute path on disk.
func (s *Server) RepoPath(name string) string {
	return filepath.Join(s.dir, "repos", name+".git")
}

// Close stops sshd and the HTTP server and removes the directory Start
// made. It is safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		if s.http != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := s.http.Shutdown(ctx); err != nil {
				errs = append(errs, err, s.http.Close())
			}
			cancel()
		}
		if s.sshd != nil {
			s.sshd.stop()
		}
		if s.cgiLog != nil {
			errs = append(errs, s.cgiLog.Close())
		}
		if s.ownDir {
			errs = append(errs, os.RemoveAll(s.dir))
		}
		if err := errors.Join(errs...); err != nil {
			s.closeErr = fmt.Errorf("gitserver: close: %w", err)
		}
	})
	return s.closeErr
}
