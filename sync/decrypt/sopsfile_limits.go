package decrypt

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"filippo.io/age/armor"
	"github.com/ProtonMail/go-crypto/openpgp"
	pgparmor "github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/syncgate/syncgate/sync/render"
)

// The shape of a sops section, bounded before any key is tried: each
// master key an offered key may open costs a private-key operation (an
// RSA one for OpenPGP) when it tries it, so what a commit chooses to
// write is bounded here and what is tried by the render's KeyBudget,
// which weighs each operation by its key (pgpCost).
// SOPS writes one stanza (age) or one recipient packet (OpenPGP) per
// master key, a data key encrypted for one recipient: an age one is about
// 390 bytes armored, an OpenPGP one 540 (RSA-2048) or 890 (RSA-4096). A
// creation rule puts every recipient it names, a team's, in one group;
// key groups are for Shamir's scheme among a few parties.
const (
	// MaxKeyGroups bounds the key groups of a document.
	MaxKeyGroups = 16
	// MaxGroupKeys bounds the age and OpenPGP master keys of one group,
	// the ones an offered key may be tried on; cloud keys are never tried.
	MaxGroupKeys = 256
	// MaxEncBytes bounds the enc of one master key.
	MaxEncBytes = 4 << 10
	// MaxRecipients bounds the age stanzas, or OpenPGP recipient packets,
	// in one enc: more than the one SOPS writes, for the grease stanzas
	// of age plugins and GnuPG's encrypt-to.
	MaxRecipients = 8
)

// tooLarge refuses a document whose sops section is past a bound.
func tooLarge(format string, args ...any) error {
	return fmt.Errorf("%w: %w: "+format, append([]any{render.ErrDecrypt, render.ErrTooLarge}, args...)...)
}

// check refuses a sops section past the bounds above.
func (m *metadata) check() error {
	groups := m.groups()
	if len(groups) > MaxKeyGroups {
		return tooLarge("its sops section has %d key groups, more than the limit of %d", len(groups), MaxKeyGroups)
	}
	for i, g := range groups {
		if n := len(g.Age) + len(g.PGP); n > MaxGroupKeys {
			return tooLarge("key group %d of its sops section has %d age and OpenPGP master keys, more than the limit of %d", i+1, n, MaxGroupKeys)
		}
		for _, a := range g.Age {
			if err := checkEnc("age", a.Recipient, a.Enc, ageStanzas); err != nil {
				return err
			}
		}
		for _, p := range g.PGP {
			if err := checkEnc("pgp", p.Fingerprint, p.Enc, func(enc string) int { return len(pgpRecipients(enc)) }); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkEnc(kind, name, enc string, recipients func(string) int) error {
	if len(enc) > MaxEncBytes {
		return tooLarge("the enc of %s key %.80q is %d bytes, more than the limit of %d", kind, name, len(enc), MaxEncBytes)
	}
	if n := recipients(enc); n > MaxRecipients {
		return tooLarge("the enc of %s key %.80q is encrypted for %d recipients, more than the limit of %d", kind, name, n, MaxRecipients)
	}
	return nil
}

// ageStanzas counts the recipient stanzas of an armored age file: the
// header's lines starting "-> ", before the line starting "---". What
// does not read as age counts none: age refuses it before any key is
// tried.
func ageStanzas(enc string) int {
	raw, err := io.ReadAll(io.LimitReader(armor.NewReader(strings.NewReader(enc)), MaxEncBytes))
	if err != nil && len(raw) == 0 {
		return 0
	}
	header, _, _ := bytes.Cut(raw, []byte("\n---"))
	n := 0
	for _, line := range bytes.Split(header, []byte("\n")) {
		if bytes.HasPrefix(line, []byte("-> ")) {
			n++
		}
	}
	return n
}

// pgpRecipients are the key ids of the public-key encrypted session key
// packets of an armored OpenPGP message (0: a hidden recipient, which
// every key is tried on), read as go-crypto reads them: up to the
// encrypted data, past packets it skips.
func pgpRecipients(enc string) []uint64 {
	block, err := pgparmor.Decode(strings.NewReader(enc))
	if err != nil {
		return nil
	}
	var ids []uint64
	r := packet.NewReader(io.LimitReader(block.Body, MaxEncBytes))
	for {
		p, err := r.Next()
		if err != nil {
			return ids
		}
		switch p := p.(type) {
		case *packet.EncryptedKey:
			ids = append(ids, p.KeyId)
		case *packet.SymmetricallyEncrypted, *packet.AEADEncrypted, *packet.Compressed, *packet.LiteralData, *packet.OnePassSignature:
			return ids
		}
	}
}

// pgpCost is the weight, in units of render.Limits.KeyCost, of one
// private-key operation with an offered OpenPGP key (BenchmarkKeyOperation
// measures them): RSA by its modulus (render.KeyCostRSA); ElGamal, which
// has no CRT shortcut, four times RSA of its modulus (an estimate, not
// measured); ECDH by its curve (ecdhCost); any other algorithm as
// RSA-4096.
func pgpCost(key openpgp.Key) int {
	pk := key.PublicKey
	switch pk.PubKeyAlgo {
	case packet.PubKeyAlgoRSA, packet.PubKeyAlgoRSAEncryptOnly:
		if bits, err := pk.BitLength(); err == nil {
			return render.KeyCostRSA(int(bits))
		}
	case packet.PubKeyAlgoElGamal:
		if bits, err := pk.BitLength(); err == nil {
			return 4 * render.KeyCostRSA(int(bits))
		}
	case packet.PubKeyAlgoX25519, packet.PubKeyAlgoX448:
		return render.KeyCostX25519
	case packet.PubKeyAlgoECDH:
		if c, err := pk.Curve(); err == nil {
			if cost, ok := ecdhCost[c]; ok {
				return cost
			}
		}
	}
	return render.KeyCostRSA(4096)
}

// ecdhCost weighs one ECDH operation by its curve, a unit for every 0.25
// ms of processor time it took in BenchmarkKeyOperation (rounded up):
// Curve25519 0.04 ms, NIST P-256 0.21, P-384 0.48, P-521 2.1, Brainpool
// P256r1 2.4, P384r1 5.3, P512r1 7.8 (go-crypto computes Brainpool
// curves with generic big-number arithmetic). A curve not listed weighs
// as RSA-4096.
var ecdhCost = map[packet.Curve]int{
	packet.Curve25519:         render.KeyCostX25519,
	packet.Curve448:           render.KeyCostX25519,
	packet.CurveNistP256:      1,
	packet.CurveNistP384:      2,
	packet.CurveNistP521:      9,
	packet.CurveBrainpoolP256: 10,
	packet.CurveBrainpoolP384: 22,
	packet.CurveBrainpoolP512: 32,
}
