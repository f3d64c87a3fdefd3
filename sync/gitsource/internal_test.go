package gitsource

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
)

// Two real commits sharing 7 hex characters are impractical to make, so
// ambiguity is tested on the resolver's index directly.
func TestResolvePrefix(t *testing.T) {
	shas := []string{
		"abcdef0123456789abcdef0123456789abcdef01",
		"abcdef0fffffffffffffffffffffffffffffffff",
		"abcdef1000000000000000000000000000000000",
		"0000000000000000000000000000000000000001",
	}
	sort.Strings(shas)
	cases := []struct {
		prefix, want string
		err          error
	}{
		{"abcdef0", "", ErrAmbiguousRevision},
		{"abcdef01", shas[1], nil},
		{"abcdef0f", shas[2], nil},
		{"abcdef1", shas[3], nil},
		{"0000000", shas[0], nil},
		{"abcdef2", "", ErrUnknownRevision},
		{"fffffff", "", ErrUnknownRevision},
		{shas[2], shas[2], nil},
	}
	for _, tc := range cases {
		t.Run(tc.prefix, func(t *testing.T) {
			got, err := resolvePrefix(len(shas), func(i int) string { return shas[i] }, tc.prefix)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
	_, err := resolvePrefix(0, nil, "abcdef0")
	require.ErrorIs(t, err, ErrUnknownRevision)
}

// A graph built out of order: parents first, generations right, walks
// correct across merges.
func TestGraph(t *testing.T) {
	h := func(s string) plumbing.Hash { return plumbing.NewHash(s + "000000000000000000000000000000000000000") }
	a, b, c, f, m := h("a"), h("b"), h("c"), h("f"), h("d")
	// a <- b <- m(b, f) <- c ; a <- f
	found := map[plumbing.Hash][]plumbing.Hash{a: nil, b: {a}, f: {a}, m: {b, f}, c: {m}}
	g := newGraph()
	g.insert(found)
	require.Len(t, g.nodes, 5)
	gen := func(x plumbing.Hash) int32 { return g.nodes[g.ids[x]].gen }
	require.EqualValues(t, 1, gen(a))
	require.EqualValues(t, 2, gen(f))
	require.EqualValues(t, 3, gen(m))
	require.EqualValues(t, 4, gen(c))

	id := func(x plumbing.Hash) int32 { return g.ids[x] }
	require.True(t, g.reaches(id(c), id(f)))
	require.True(t, g.reaches(id(m), id(a)))
	require.False(t, g.reaches(id(b), id(f)))
	require.False(t, g.reaches(id(a), id(c)))

	g.setHead(b)
	require.Equal(t, []bool{true, true}, []bool{g.onBranch[id(a)], g.onBranch[id(b)]})
	require.False(t, g.onBranch[id(f)])
	require.Len(t, g.sorted, 2)

	// Adding more later keeps the old ids.
	d := h("e")
	g.insert(map[plumbing.Hash][]plumbing.Hash{d: {c}})
	require.EqualValues(t, 5, gen(d))
	require.True(t, g.reaches(id(d), id(f)))
}

func TestTokenUser(t *testing.T) {
	for host, want := range map[string]string{
		"github.com": "x-access-token", "GitHub.com": "x-access-token", "github.example.com": "x-access-token",
		"gitlab.com": "oauth2", "gitlab.example.com": "oauth2",
		"git.example.com": "git", "example.com": "git",
	} {
		require.Equal(t, want, tokenUser(host), host)
	}
}

func TestAuthFor(t *testing.T) {
	key := writeKey(t)
	hosts := filepath.Join(t.TempDir(), "known_hosts")
	require.NoError(t, os.WriteFile(hosts, []byte("[git.example.com]:2222 "+string(ssh.MarshalAuthorizedKey(pubOf(t, key)))), 0o600))

	cases := []struct {
		name  string
		opts  Options
		check func(t *testing.T, auth any)
		err   string
	}{
		{"file", Options{URL: "file:///srv/config.git"}, func(t *testing.T, auth any) { require.Nil(t, auth) }, ""},
		{"https anonymous", Options{URL: "https://example.com/config.git"}, func(t *testing.T, auth any) { require.Nil(t, auth) }, ""},
		{"github token", Options{URL: "https://github.com/o/r.git", Token: "tok"}, func(t *testing.T, auth any) {
			require.Equal(t, &githttp.BasicAuth{Username: "x-access-token", Password: "tok"}, auth)
		}, ""},
		{"gitlab token", Options{URL: "https://gitlab.com/g/sub/r.git", Token: "tok"}, func(t *testing.T, auth any) {
			require.Equal(t, "oauth2", auth.(*githttp.BasicAuth).Username)
		}, ""},
		{"explicit user", Options{URL: "https://github.com/o/r.git", Token: "tok", Username: "bot"}, func(t *testing.T, auth any) {
			require.Equal(t, "bot", auth.(*githttp.BasicAuth).Username)
		}, ""},
		{"scp-like", Options{URL: "deploy@git.example.com:team/config.git", SSHKeyPath: key, KnownHostsPath: hosts}, func(t *testing.T, auth any) {
			require.Equal(t, "deploy", auth.(*gitssh.PublicKeys).User)
		}, ""},
		{"ssh url with port", Options{URL: "ssh://git@git.example.com:2222/config.git", SSHKeyPath: key, KnownHostsPath: hosts}, func(t *testing.T, auth any) {
			pk := auth.(*gitssh.PublicKeys)
			require.Equal(t, "git", pk.User)
			require.Equal(t, []string{ssh.KeyAlgoED25519}, pk.HostKeyAlgorithms, "the key type known_hosts holds")
		}, ""},
		{"ssh without key", Options{URL: "git@git.example.com:config.git", KnownHostsPath: hosts}, nil, "SSH private key"},
		{"ssh without known_hosts", Options{URL: "git@git.example.com:config.git", SSHKeyPath: key}, nil, "known_hosts"},
		{"ssh insecure", Options{URL: "git@git.example.com:config.git", SSHKeyPath: key, InsecureIgnoreHostKey: true}, func(t *testing.T, auth any) {
			require.NotNil(t, auth.(*gitssh.PublicKeys).HostKeyCallback)
		}, ""},
		{"unsupported", Options{URL: "ftp://example.com/config.git"}, nil, "not supported"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			auth, err := authFor(tc.opts)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			tc.check(t, auth)
		})
	}
}

func TestSecretsStayOut(t *testing.T) {
	opts := Options{URL: "https://bot:url-password@example.com/config.git", Token: "the-token"}

	cause := errors.New(`Get "https://bot:url-password@example.com": token the-token refused`)
	err := redact(cause, secretsOf(opts))
	require.NotContains(t, err.Error(), "url-password")
	require.NotContains(t, err.Error(), "the-token")
	require.ErrorIs(t, err, cause)
	plain := errors.New("nothing secret")
	require.Same(t, plain, redact(plain, secretsOf(opts)))
}

func writeKey(t *testing.T) string {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	block, err := ssh.MarshalPrivateKey(priv, "")
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "id_ed25519")
	require.NoError(t, os.WriteFile(p, pem.EncodeToMemory(block), 0o600))
	return p
}

func pubOf(t *testing.T, keyPath string) ssh.PublicKey {
	t.Helper()
	b, err := os.ReadFile(keyPath)
	require.NoError(t, err)
	signer, err := ssh.ParsePrivateKey(b)
	require.NoError(t, err)
	return signer.PublicKey()
}

// An octopus merge's parents are kept in order in the flat parents array,
// whatever was inserted before and after it: the first parent is what
// Commits follows.
func TestGraphOctopus(t *testing.T) {
	h := func(s string) plumbing.Hash { return plumbing.NewHash(s + "000000000000000000000000000000000000000") }
	a, b, c, d, o, e := h("a"), h("b"), h("c"), h("d"), h("1"), h("e")
	g := newGraph()
	g.insert(map[plumbing.Hash][]plumbing.Hash{a: nil, b: {a}})
	// o merges c, b, d (c and d off a), in that order; e follows o.
	g.insert(map[plumbing.Hash][]plumbing.Hash{c: {a}, d: {a}, o: {c, b, d}, e: {o}})
	id := func(x plumbing.Hash) int32 { return g.ids[x] }
	require.Equal(t, []int32{id(c), id(b), id(d)}, g.parentsOf(id(o)))
	require.Equal(t, []int32{id(o)}, g.parentsOf(id(e)))
	require.Empty(t, g.parentsOf(id(a)))
	require.EqualValues(t, 3, g.nodes[id(o)].gen)
	for _, p := range []plumbing.Hash{a, b, c, d} {
		require.True(t, g.reaches(id(e), id(p)))
	}
	g.setHead(e)
	require.Len(t, g.sorted, 6)
}
