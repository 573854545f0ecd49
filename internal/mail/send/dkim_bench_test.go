package send

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkDKIMSign signs a 4 KB notification with an account's key of each kind,
// reporting CPU time per signature (getrusage: user + system of the process) beside
// the wall clock, which a loaded machine makes worthless.
func BenchmarkDKIMSign(b *testing.B) {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	_, ek, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	msg := []byte("From: Acme <support@acme.example.com>\r\nTo: jane@customer.test\r\nSubject: Re: Lamp\r\n" +
		"Date: Sun, 06 Dec 2026 12:00:00 +0000\r\nMessage-ID: <tkt-x.y@example.com>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\n" + strings.Repeat("The lamp ships tomorrow, sorry.  \r\n", 120))
	for _, c := range []struct {
		name string
		key  DKIMKey
	}{{"rsa2048", DKIMKey{Domain: "acme.example.com", Selector: "s", Signer: rk}}, {"ed25519", DKIMKey{Domain: "acme.example.com", Selector: "s", Signer: ek}}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			start := cpuTime()
			for b.Loop() {
				if _, err := c.key.sign(msg, time.Unix(0, 0)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpuTime()-start).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
