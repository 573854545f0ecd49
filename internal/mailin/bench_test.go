package mailin_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"tandem/internal/mailin"
	"tandem/internal/server"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

// BenchmarkInbound measures messages per second into tickets on SQLite, from one SMTP
// connection and from eight, and the 99th percentile of the time to the ticket:
//   - p99-ms, the server's: from the final dot read (received_at, taken just before the
//     inbox commit that precedes 250) to the ticket committed (done_at);
//   - p99-client-ms: from the client about to write the final dot to the ticket
//     committed (the same clock: client and server are one process);
//   - p99-250-ms: from the client about to write the final dot to its reading the 250
//     (what back-pressure lengthens).
//
// Run: go test -run '^$' -bench Inbound ./internal/mailin
func BenchmarkInbound(b *testing.B) {
	workers := mailin.DefaultWorkers
	if v, err := strconv.Atoi(os.Getenv("TANDEM_BENCH_MAIL_WORKERS")); err == nil && v > 0 {
		workers = v // to compare: the number of inbox workers (--mail-workers)
	}
	backlog := mailin.DefaultBacklog
	if v, err := strconv.Atoi(os.Getenv("TANDEM_BENCH_MAIL_BACKLOG")); err == nil && v != 0 {
		backlog = v // to compare: the back-pressure bound (--mail-backlog; -1 = none)
	}
	for _, conns := range []int{1, 8} {
		b.Run(fmt.Sprintf("conns=%d", conns), func(b *testing.B) {
			r := newRigConfig(b, storetest.Open(b, store.SQLite), func(c *server.Config) {
				c.MailMaxSize = 1 << 30
				c.MailSenderRate = 1 << 30
				c.MailWorkers = workers
				c.MailBacklog = backlog
			})
			body := strings.Repeat("The tent leaks at the seams after rain. ", 40)
			per := max(b.N/conns, 1)
			// dots[c][i] is when connection c was about to write message i's final dot;
			// replies[c][i] how long its 250 then took (microseconds).
			dots := make([][]int64, conns)
			replies := make([][]int64, conns)
			b.ResetTimer()
			st0, _ := r.d.DB.Memory(context.Background())
			cpu0 := processCPU()
			start := time.Now()
			var wg sync.WaitGroup
			for c := 0; c < conns; c++ {
				dots[c] = make([]int64, per)
				replies[c] = make([]int64, per)
				wg.Add(1)
				go func() {
					defer wg.Done()
					cl, err := smtp.Dial(r.smtp)
					if err != nil {
						b.Error(err)
						return
					}
					defer cl.Close()
					for i := 0; i < per; i++ {
						from := fmt.Sprintf("c%d-%d@customer.test", c, i%50)
						m := "From: " + from + "\r\nTo: support@acme.localhost\r\nSubject: bench " + strconv.Itoa(c) + " " + strconv.Itoa(i) +
							"\r\nMessage-ID: <bench-" + strconv.Itoa(c) + "-" + strconv.Itoa(i) + "@sender.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n"
						if err := cl.Mail(from, nil); err != nil {
							b.Error(err)
							return
						}
						if err := cl.Rcpt("support@acme.localhost", nil); err != nil {
							b.Error(err)
							return
						}
						w, err := cl.Data()
						if err != nil {
							b.Error(err)
							return
						}
						if _, err := io.WriteString(w, m); err != nil {
							b.Error(err)
							return
						}
						// Close writes the final dot and reads the reply.
						dot := time.Now()
						if err := w.Close(); err != nil {
							b.Error(err)
							return
						}
						dots[c][i] = store.Micros(dot)
						replies[c][i] = time.Since(dot).Microseconds()
					}
				}()
			}
			wg.Wait()
			r.settleB(b)
			el := time.Since(start)
			cpu := processCPU() - cpu0
			b.StopTimer()
			n := per * conns
			b.ReportMetric(float64(n)/el.Seconds(), "msgs/s")
			// CPU per message moves less with the machine's load than the rate does; it
			// includes the benchmark's own SMTP clients (same process).
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(n), "cpu-ms/msg")
			b.ReportMetric(loadAverage(), "load1")
			// Write transactions (group commits) and read queries per message.
			if st, err := r.d.DB.Memory(context.Background()); err == nil {
				b.ReportMetric(float64(st.Commits-st0.Commits)/float64(n), "commits/msg")
				b.ReportMetric(float64(st.Reads-st0.Reads)/float64(n), "reads/msg")
				b.ReportMetric(float64(st.Written-st0.Written)/float64(n), "writer-stmts/msg")
			}
			var lat, client, reply []int64
			rows, _ := r.d.DB.R().QueryContext(context.Background(), `SELECT thread_key, received_at, done_at FROM mail_inbox WHERE state = 'done'`)
			for rows.Next() {
				var key string
				var recv, done int64
				_ = rows.Scan(&key, &recv, &done)
				lat = append(lat, done-recv)
				var c, i int
				if _, err := fmt.Sscanf(key, "<bench-%d-%d@sender.test>", &c, &i); err == nil && c < conns && i < per && dots[c][i] != 0 {
					client = append(client, done-dots[c][i])
				}
			}
			rows.Close()
			for _, rs := range replies {
				reply = append(reply, rs...)
			}
			p99 := func(v []int64, unit string) {
				if len(v) > 0 {
					slices.Sort(v)
					b.ReportMetric(float64(v[len(v)*99/100])/1000, unit)
				}
			}
			p99(lat, "p99-ms")
			p99(client, "p99-client-ms")
			p99(reply, "p99-250-ms")
		})
	}
}

// BenchmarkLargeMessageMemory sends one 30 MB message (a 30 MB attachment) and reports
// the peak Go heap growth until the 250 (the listener streams to the spool file; the
// worker, woken by the commit, may already have started reading it) and until the
// ticket is made (the worker's parse holds the message and its decoded attachment).
func BenchmarkLargeMessageMemory(b *testing.B) {
	r := newRigB(b, 64<<20)
	line := strings.Repeat("QUJD", 19) + "\r\n"
	att := strings.Repeat(line, (30<<20)/len(line))
	m := "From: big@customer.test\r\nTo: support@acme.localhost\r\nSubject: big\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=big.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n" + att + "--b--\r\n"
	for i := 0; i < b.N; i++ {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		base := ms.HeapAlloc
		var peakListen, peak uint64
		stop := make(chan struct{})
		phase := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			listening := true
			for {
				select {
				case <-stop:
					return
				case <-phase:
					listening = false
					phase = nil
				case <-time.After(5 * time.Millisecond):
				}
				var s runtime.MemStats
				runtime.ReadMemStats(&s)
				if s.HeapAlloc > base {
					if listening && s.HeapAlloc-base > peakListen {
						peakListen = s.HeapAlloc - base
					}
					if s.HeapAlloc-base > peak {
						peak = s.HeapAlloc - base
					}
				}
			}
		}()
		// The message string itself (30 MB) is the client's; it was allocated before base.
		cl, err := smtp.Dial(r.smtp)
		if err != nil {
			b.Fatal(err)
		}
		// The reader is wrapped so that the client copies it in pieces: a strings.Reader
		// would hand the client's writer the whole 30 MB string, converted to a 30 MB
		// []byte on this heap (it was most of what the figure while receiving showed).
		if err := cl.SendMail("big@customer.test", []string{"support@acme.localhost"}, struct{ io.Reader }{strings.NewReader(m)}); err != nil {
			b.Fatal(err)
		}
		cl.Close()
		close(phase)
		r.settleB(b)
		close(stop)
		<-done
		// The figure counts only if the attachment was kept, whole.
		var size int64
		if err := r.d.DB.R().QueryRowContext(context.Background(), `SELECT size FROM attachments WHERE file_name = 'big.bin' AND comment_id <> 0 ORDER BY id DESC LIMIT 1`).Scan(&size); err != nil || size != int64(len(att)/78*57) {
			b.Fatalf("big.bin kept with %d bytes (%v), want %d", size, err, len(att)/78*57)
		}
		b.ReportMetric(float64(peakListen)/(1<<20), "MB-heap-while-receiving")
		b.ReportMetric(float64(peak)/(1<<20), "MB-heap-peak-with-parse")
	}
}

// processCPU is the CPU time (user and system) this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAverage is the machine's one-minute load average (0 where /proc has none).
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

func newRigB(b *testing.B, maxSize ...int64) *rig {
	return newRigTB(b, storetest.Open(b, store.SQLite), maxSize...)
}

func (r *rig) settleB(b *testing.B) {
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		var n int
		if err := r.d.DB.R().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM mail_inbox WHERE state = 'new'`).Scan(&n); err == nil && n == 0 {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	b.Fatal("inbox not processed")
}
