package gitserver

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/syncgate/syncgate/testing/proc"
)

const sshdPath = "/usr/sbin/sshd"

// sshd is a real OpenSSH server in the foreground, on a loopback port.
type sshd struct {
	proc       *proc.Proc
	addr       string
	user       string
	clientKey  string
	knownHosts string
}

func writeKey(path string) (ssh.PublicKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, err
	}
	return ssh.NewPublicKey(pub)
}

func startSSHD(ctx context.Context, dir string) (*sshd, error) {
	if _, err := os.Stat(sshdPath); err != nil {
		return nil, fmt.Errorf("sshd not installed (apt-get install openssh-server): %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	// Privilege separation directory sshd insists on.
	_ = os.MkdirAll("/run/sshd", 0o755)
	hostPub, err := writeKey(filepath.Join(dir, "host_ed25519"))
	if err != nil {
		return nil, err
	}
	clientPub, err := writeKey(filepath.Join(dir, "client_ed25519"))
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), ssh.MarshalAuthorizedKey(clientPub), 0o600); err != nil {
		return nil, err
	}
	u, err := user.Current()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cfg := fmt.Sprintf(`ListenAddress 127.0.0.1
Port %d
HostKey %s
PidFile %s
AuthorizedKeysFile %s
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
UsePAM no
AllowUsers %s
`, port, filepath.Join(dir, "host_ed25519"), filepath.Join(dir, "sshd.pid"), filepath.Join(dir, "authorized_keys"), u.Username)
	cfgPath := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	known := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(known, []byte(knownhosts.Line([]string{knownhosts.Normalize(addr)}, hostPub)+"\n"), 0o600); err != nil {
		return nil, err
	}
	p, err := proc.Start("sshd", exec.Command(sshdPath, "-D", "-e", "-f", cfgPath), filepath.Join(dir, "sshd.log"))
	if err != nil {
		return nil, err
	}
	s := &sshd{proc: p, addr: addr, user: u.Username, clientKey: filepath.Join(dir, "client_ed25519"), knownHosts: known}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return s, nil
		}
		select {
		case <-p.Done():
			return nil, fmt.Errorf("sshd exited: %s", p.LogTail(3000))
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("sshd did not listen on %s", addr)
		}
	}
}

// SSHCommand is a GIT_SSH_COMMAND that uses the client key and known_hosts,
// for pushing with the git command line.
func (s *Server) SSHCommand() string {
	if s.sshd == nil {
		return ""
	}
	return fmt.Sprintf("ssh -i %s -o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes", s.sshd.clientKey, s.sshd.knownHosts)
}

func (s *sshd) stop() { s.proc.Stop(5 * time.Second) }
