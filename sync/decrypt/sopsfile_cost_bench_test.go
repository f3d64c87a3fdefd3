package decrypt

import (
	"bytes"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"

	fage "filippo.io/age"
	"filippo.io/age/armor"
	"github.com/ProtonMail/go-crypto/openpgp"
	pgparmor "github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/syncgate/syncgate/testing/sopstest"
)

// BenchmarkKeyOperation measures one private-key operation opening a
// data key, of each kind of key offered, as a render runs it: the figures
// behind keyCost and render.Limits.KeyCost.
func BenchmarkKeyOperation(b *testing.B) {
	b.Run("age", func(b *testing.B) {
		id, err := fage.GenerateX25519Identity()
		if err != nil {
			b.Fatal(err)
		}
		var buf bytes.Buffer
		a := armor.NewWriter(&buf)
		w, err := fage.Encrypt(a, id.Recipient())
		if err != nil {
			b.Fatal(err)
		}
		_, _ = w.Write(make([]byte, 32))
		_ = w.Close()
		_ = a.Close()
		enc := buf.String()
		cpu := cpuTime(b)
		for b.Loop() {
			if openAge(id, enc) == nil {
				b.Fatal("not opened")
			}
		}
		cpu(b)
	})
	for name, config := range map[string]*packet.Config{
		"rsa2048":      {RSABits: 2048},
		"rsa3072":      {RSABits: 3072},
		"rsa4096":      {RSABits: 4096},
		"curve25519":   {Algorithm: packet.PubKeyAlgoEdDSA},
		"p256":         {Algorithm: packet.PubKeyAlgoECDSA, Curve: packet.CurveNistP256},
		"p384":         {Algorithm: packet.PubKeyAlgoECDSA, Curve: packet.CurveNistP384},
		"p521":         {Algorithm: packet.PubKeyAlgoECDSA, Curve: packet.CurveNistP521},
		"brainpool256": {Algorithm: packet.PubKeyAlgoECDSA, Curve: packet.CurveBrainpoolP256},
		"brainpool384": {Algorithm: packet.PubKeyAlgoECDSA, Curve: packet.CurveBrainpoolP384},
		"brainpool512": {Algorithm: packet.PubKeyAlgoECDSA, Curve: packet.CurveBrainpoolP512},
	} {
		b.Run(name, func(b *testing.B) {
			k, err := sopstest.NewPGPKeyOf(config)
			if err != nil {
				b.Fatal(err)
			}
			ring, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(k.Armored))
			if err != nil {
				b.Fatal(err)
			}
			enc := pgpMessage(b, ring[0])
			cpu := cpuTime(b)
			for b.Loop() {
				if _, err := openPGP(ring, enc); err != nil {
					b.Fatal(err)
				}
			}
			cpu(b)
		})
	}
}

// cpuTime starts measuring the processor time the process spends; the
// function it returns reports it per operation (cpu-ms/op), which,
// unlike the wall-clock time, holds on a loaded machine.
func cpuTime(b *testing.B) func(*testing.B) {
	used := func() time.Duration {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			b.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start := used()
	return func(b *testing.B) {
		b.ReportMetric(float64(used()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
	}
}

// pgpMessage is a data key encrypted for e, armored as SOPS writes it.
func pgpMessage(tb testing.TB, e *openpgp.Entity) string {
	var buf bytes.Buffer
	a, err := pgparmor.Encode(&buf, "PGP MESSAGE", nil)
	if err != nil {
		tb.Fatal(err)
	}
	w, err := openpgp.Encrypt(a, []*openpgp.Entity{e}, nil, nil, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := io.Copy(w, strings.NewReader(strings.Repeat("k", 32))); err != nil {
		tb.Fatal(err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := a.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.String()
}
