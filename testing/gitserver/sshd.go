package gitserver

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/syncgate/syncgate/testing/proc"
)

// SSHDPath is where Debian's openssh-server installs the daemon.
const SSHDPath = "/usr/sbin/sshd"

// sshd is a real OpenSSH server in the foreground on a loopback port.
type sshd struct {
	proc       *proc.Proc
	addr       string
	user       string
	clientKey  string
	knownHosts string
}

// writeKey makes an ed25519 key in OpenSSH format.
func writeKey(path string) (ssh.Signer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
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
	return ssh.NewSignerFromKey(priv)
}

const sshdConfig = `# Written by syncgate's testing/gitserver.
ListenAddress 127.0.0.1:{{port}}
HostKey {{dir}}/host_ed25519
PidFile {{dir}}/sshd.pid
AuthorizedKeysFile {{dir}}/authorized_keys
AllowUsers {{user}}
AuthenticationMethods publickey
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
HostbasedAuthentication no
PermitRootLogin prohibit-password
PermitUserEnvironment no
StrictModes no
UsePAM no
UseDNS no
AllowTcpForwarding no
AllowAgentForwarding no
X11Forwarding no
PermitTTY no
PrintMotd no
PrintLastLog no
MaxStartups 100:30:200
LogLevel INFO
`

// startSSHD writes keys and a config under dir and runs sshd -D -e. The
// port is picked free, then bound by sshd; should another process take it
// in between, sshd exits and another port is tried.
func startSSHD(ctx context.Context, dir string) (*sshd, error) {
	if _, err := os.Stat(SSHDPath); err != nil {
		return nil, fmt.Errorf("sshd not installed (apt-get install openssh-server): %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	// The privilege separation directory sshd insists on; only root can
	// make it, and only root needs it.
	if os.Geteuid() == 0 {
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			return nil, fmt.Errorf("sshd privilege separation dir: %w", err)
		}
	}
	host, err := writeKey(filepath.Join(dir, "host_ed25519"))
	if err != nil {
		return nil, fmt.Errorf("host key: %w", err)
	}
	client, err := writeKey(filepath.Join(dir, "client_ed25519"))
	if err != nil {
		return nil, fmt.Errorf("client key: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), ssh.MarshalAuthorizedKey(client.PublicKey()), 0o600); err != nil {
		return nil, err
	}
	u, err := user.Current()
	if err != nil {
		return nil, err
	}
	var errs []error
	for range 3 {
		s, err := runSSHD(ctx, dir, u.Username, host, client)
		if err == nil {
			return s, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

func runSSHD(ctx context.Context, dir, username string, host, client ssh.Signer) (*sshd, error) {
	ports, err := proc.FreePorts(1)
	if err != nil {
		return nil, err
	}
	port := ports[0]
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	cfg := strings.NewReplacer("{{port}}", strconv.Itoa(port), "{{dir}}", dir, "{{user}}", username).Replace(sshdConfig)
	cfgPath := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	known := filepath.Join(dir, "known_hosts")
	line := knownhosts.Line([]string{knownhosts.Normalize(addr)}, host.PublicKey()) + "\n"
	if err := os.WriteFile(known, []byte(line), 0o600); err != nil {
		return nil, err
	}
	p, err := proc.Start("sshd", exec.Command(SSHDPath, "-D", "-e", "-f", cfgPath), filepath.Join(dir, "sshd.log"))
	if err != nil {
		return nil, err
	}
	s := &sshd{proc: p, addr: addr, user: username, clientKey: filepath.Join(dir, "client_ed25519"), knownHosts: known}
	if err := s.waitReady(ctx, host.PublicKey(), client); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// waitReady completes an SSH handshake with the client key against the
// expected host key: only then is it our sshd listening.
func (s *sshd) waitReady(ctx context.Context, hostKey ssh.PublicKey, client ssh.Signer) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	cfg := &ssh.ClientConfig{
		User:            s.user,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(client)},
		HostKeyCallback: ssh.FixedHostKey(hostKey),
		Timeout:         2 * time.Second,
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		c, err := ssh.Dial("tcp", s.addr, cfg)
		if err == nil {
			return c.Close()
		}
		select {
		case <-s.proc.Done():
			return fmt.Errorf("sshd exited: %v: %s", s.proc.Err(), s.proc.LogTail(2000))
		case <-ctx.Done():
			return fmt.Errorf("sshd on %s not ready: %w (last: %v): %s", s.addr, ctx.Err(), err, s.proc.LogTail(2000))
		case <-tick.C:
		}
	}
}

func (s *sshd) stop() { s.proc.Stop(5 * time.Second) }
