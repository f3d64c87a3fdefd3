package gitsource

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"golang.org/x/crypto/ssh"

	"github.com/syncgate/syncgate/repourl"
)

// authFor picks the credentials the URL's protocol takes. It reads the URL
// as go-git's transport does (its Endpoint), since that is what is dialled:
// user, host and port here must be the ones the connection uses.
func authFor(opts Options) (transport.AuthMethod, error) {
	ep, err := transport.NewEndpoint(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("gitsource: repo URL %s: %w", repourl.Redact(opts.URL), redact(err, secretsOf(opts)))
	}
	switch ep.Protocol {
	case "file":
		return nil, nil
	case "http", "https":
		if opts.Token == "" {
			return nil, nil // anonymous, or credentials embedded in the URL
		}
		user := opts.Username
		if user == "" {
			user = ep.User
		}
		if user == "" {
			user = tokenUser(ep.Host)
		}
		return &githttp.BasicAuth{Username: user, Password: opts.Token}, nil
	case "ssh":
		return sshAuth(opts, ep)
	}
	return nil, fmt.Errorf("gitsource: repo URL %s: protocol %q is not supported (https, ssh or file)", repourl.Redact(opts.URL), ep.Protocol)
}

// tokenUser follows each provider's convention for a token as password.
func tokenUser(host string) string {
	host = strings.ToLower(host)
	switch {
	case host == "github.com" || strings.HasSuffix(host, ".github.com") || strings.HasPrefix(host, "github."):
		return "x-access-token"
	case host == "gitlab.com" || strings.HasSuffix(host, ".gitlab.com") || strings.HasPrefix(host, "gitlab."):
		return "oauth2"
	}
	return "git"
}

func sshAuth(opts Options, ep *transport.Endpoint) (transport.AuthMethod, error) {
	if opts.SSHKeyPath == "" {
		return nil, errors.New("gitsource: an ssh repo URL needs an SSH private key")
	}
	user := ep.User
	if user == "" {
		user = "git"
	}
	keys, err := gitssh.NewPublicKeysFromFile(user, opts.SSHKeyPath, "")
	if err != nil {
		return nil, fmt.Errorf("gitsource: ssh key %s: %w", opts.SSHKeyPath, err)
	}
	if opts.InsecureIgnoreHostKey {
		keys.HostKeyCallback = ssh.InsecureIgnoreHostKey() //nolint:gosec // asked for explicitly
		return keys, nil
	}
	if opts.KnownHostsPath == "" {
		return nil, errors.New("gitsource: an ssh repo URL needs a known_hosts file to verify the host (or an explicit insecure-ignore-host-key)")
	}
	db, err := gitssh.NewKnownHostsDb(opts.KnownHostsPath)
	if err != nil {
		return nil, fmt.Errorf("gitsource: known_hosts %s: %w", opts.KnownHostsPath, err)
	}
	port := ep.Port
	if port == 0 {
		port = 22
	}
	keys.HostKeyCallback = db.HostKeyCallback()
	// Offer only the key types known_hosts holds for this host, so a server
	// with several host keys presents one that can be verified.
	keys.HostKeyAlgorithms = db.HostKeyAlgorithms(net.JoinHostPort(ep.Host, strconv.Itoa(port)))
	return keys, nil
}

// secretsOf lists what must never appear in an error or a log line.
func secretsOf(opts Options) []string {
	var out []string
	if opts.Token != "" {
		out = append(out, opts.Token)
	}
	if u, err := repourl.Parse(opts.URL); err == nil && u.User != nil {
		p, ok := u.User.Password()
		if !ok && len(u.User.Username()) >= 20 {
			p = u.User.Username() // a token given as the user name
		}
		if p != "" {
			out = append(out, p, url.QueryEscape(p), url.PathEscape(p))
		}
	}
	return out
}

// redactedError hides secrets from an error's text, keeping its chain.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

func redact(err error, secrets []string) error {
	msg := err.Error()
	changed := false
	for _, s := range secrets {
		if s != "" && strings.Contains(msg, s) {
			msg = strings.ReplaceAll(msg, s, "REDACTED")
			changed = true
		}
	}
	if !changed {
		return err
	}
	return &redactedError{msg: msg, err: err}
}
