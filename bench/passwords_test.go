package bench

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/server"
	"tandem/internal/store/storetest"
)

// BenchmarkTokenDuringPasswordFlood measures what wrong-password traffic costs everyone
// else: the latency of token-authenticated API requests (GET /users/me, one client)
// while 16 clients send Basic auth with wrong passwords as fast as they can, each from
// its own address (X-Forwarded-For behind a trusted proxy) and for its own email, so
// that no attempt limit stops them and every one costs an argon2id check: the worst
// case for the hashing bound. "quiet" is the same without the flood. Run:
//
//	TANDEM_TEST_POSTGRES=... go test ./bench -run '^$' -bench TokenDuringPasswordFlood -benchtime 2000x
func BenchmarkTokenDuringPasswordFlood(b *testing.B) {
	for _, d := range storetest.Dialects() {
		for _, flood := range []bool{false, true} {
			name := string(d) + "/quiet"
			if flood {
				name = string(d) + "/flood16"
			}
			b.Run(name, func(b *testing.B) {
				desk, err := StartDesk(storetest.Open(b, d), func(c *server.Config) {
					c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
				})
				if err != nil {
					b.Fatal(err)
				}
				defer desk.Stop()
				c, err := desk.NewAccount("acme", account.Enterprise)
				if err != nil {
					b.Fatal(err)
				}
				stop := make(chan struct{})
				var wg sync.WaitGroup
				var guesses, refused atomic.Int64
				var peakSys atomic.Uint64
				if flood {
					tr := &http.Transport{MaxIdleConnsPerHost: 64}
					hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
					for w := range 16 {
						wg.Add(1)
						go func() {
							defer wg.Done()
							for i := 0; ; i++ {
								select {
								case <-stop:
									return
								default:
								}
								req, _ := http.NewRequest("GET", "http://"+desk.Addr+"/api/v2/users/me.json", nil)
								req.Host = c.host
								req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", w, (i>>8)&255, i&255))
								req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "guess%d-%d@acme.test:wrong password", w, i)))
								resp, err := hc.Do(req)
								if err != nil {
									continue
								}
								_, _ = io.Copy(io.Discard, resp.Body)
								resp.Body.Close()
								guesses.Add(1)
								if resp.StatusCode != http.StatusUnauthorized {
									refused.Add(1) // 429 or 503: not checked
								}
							}
						}()
					}
					wg.Add(1)
					go func() {
						defer wg.Done()
						t := time.NewTicker(50 * time.Millisecond)
						defer t.Stop()
						for {
							var ms runtime.MemStats
							runtime.ReadMemStats(&ms)
							if ms.Sys > peakSys.Load() {
								peakSys.Store(ms.Sys)
							}
							select {
							case <-stop:
								return
							case <-t.C:
							}
						}
					}()
					time.Sleep(time.Second) // let the flood build up before measuring
				}
				var lat []time.Duration
				start := time.Now()
				for b.Loop() {
					t0 := time.Now()
					status, err := c.Do("GET", "/api/v2/users/me.json", nil, nil)
					if err != nil || status != http.StatusOK {
						b.Fatalf("token request: %d %v", status, err)
					}
					lat = append(lat, time.Since(t0))
				}
				elapsed := time.Since(start)
				close(stop)
				wg.Wait()
				slices.Sort(lat)
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "token-p50-µs")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "token-p99-µs")
				if flood {
					b.ReportMetric(float64(guesses.Load())/elapsed.Seconds(), "guesses/s")
					b.ReportMetric(float64(refused.Load())/float64(max(guesses.Load(), 1))*100, "guesses-refused-%")
					b.ReportMetric(float64(peakSys.Load())/(1<<20), "peak-sys-MiB")
				}
			})
		}
	}
}
