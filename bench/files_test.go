package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"math/rand/v2"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tandem/internal/account"
	"tandem/internal/files"
	"tandem/internal/server"
	"tandem/internal/store"
	"tandem/internal/store/storetest"
)

// Attachments over loopback, disk blob store, SQLite. Run:
//
//	go test ./bench -run '^$' -bench 'File|Thumbnail' -benchtime 10x

const twentyMB = 20 << 20

// fileDesk starts a desk keeping files on disk, with room for 20 MB files.
func fileDesk(b *testing.B) (*Desk, *Client) {
	b.Helper()
	desk, err := StartDesk(storetest.Open(b, store.SQLite), func(c *server.Config) {
		c.FilesDir = b.TempDir()
		c.Files.MaxFileSize = 64 << 20
		c.Files.AccountQuota = 1 << 40
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(desk.Stop)
	c, err := desk.NewAccount("acme", account.Enterprise)
	if err != nil {
		b.Fatal(err)
	}
	return desk, c
}

// pseudo yields n pseudo-random bytes from a seed without holding them, so each
// upload's content differs (no deduplication) and the client costs no memory.
type pseudo struct {
	r *rand.ChaCha8
	n int64
}

func newPseudo(seed uint64, n int64) *pseudo {
	var s [32]byte
	s[0], s[1] = byte(seed), byte(seed>>8)
	return &pseudo{r: rand.NewChaCha8(s), n: n}
}

func (p *pseudo) Read(b []byte) (int, error) {
	if p.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > p.n {
		b = b[:p.n]
	}
	n, _ := p.r.Read(b)
	p.n -= int64(n)
	return n, nil
}

// upload posts one file and returns its content_url's path.
func (c *Client) upload(name string, body io.Reader) (string, error) {
	req, err := http.NewRequest("POST", "http://"+c.desk.Addr+"/api/v2/uploads.json?filename="+name, body)
	if err != nil {
		return "", err
	}
	req.Host = c.host
	req.Header.Set("Authorization", c.auth)
	req.Header.Set("Content-Type", "application/binary")
	resp, err := c.hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		Upload struct {
			Attachment struct {
				ID int64 `json:"id"`
			} `json:"attachment"`
		} `json:"upload"`
	}
	if resp.StatusCode != 201 {
		msg, _ := io.ReadAll(resp.Body)
		return "", fmt.Errorf("upload: %s: %s", resp.Status, msg)
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return "", err
	}
	return fmt.Sprintf("/api/v2/attachments/%d/content", out.Upload.Attachment.ID), nil
}

func BenchmarkFileUpload20MB(b *testing.B) {
	_, c := fileDesk(b)
	b.SetBytes(twentyMB)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.upload("big.bin", newPseudo(uint64(i), twentyMB)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFileDownload20MB(b *testing.B) {
	_, c := fileDesk(b)
	path, err := c.upload("big.bin", newPseudo(1, twentyMB))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(twentyMB)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req, _ := http.NewRequest("GET", "http://"+c.desk.Addr+path, nil)
		req.Host = c.host
		req.Header.Set("Authorization", c.auth)
		resp, err := c.hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if n != twentyMB {
			b.Fatalf("downloaded %d bytes", n)
		}
	}
}

// BenchmarkFileUpload16Concurrent: 16 clients upload 20 MB each at once; reports the
// peak growth of the process's heap above idle (sampled every 5 ms), server and
// clients together (the clients stream, holding nothing).
func BenchmarkFileUpload16Concurrent(b *testing.B) {
	_, c := fileDesk(b)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	idle := ms.HeapInuse
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
			}
		}
	}()
	b.SetBytes(16 * twentyMB)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var wg sync.WaitGroup
		errc := make(chan error, 16)
		for w := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := c.upload("big.bin", newPseudo(uint64(i*16+w+100), twentyMB)); err != nil {
					errc <- err
				}
			}()
		}
		wg.Wait()
		close(errc)
		if err := <-errc; err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	close(stop)
	<-sampled
	growth := float64(0)
	if p := peak.Load(); p > idle {
		growth = float64(p-idle) / (1 << 20)
	}
	b.ReportMetric(growth, "MB-heap-growth")
}

// BenchmarkThumbnail12MP: the thumbnail of a 4000 × 3000 JPEG (decode and scale).
func BenchmarkThumbnail12MP(b *testing.B) {
	img := image.NewRGBA(image.Rect(0, 0, 4000, 3000))
	for y := 0; y < 3000; y++ {
		for x := 0; x < 4000; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(x ^ y), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if files.Thumbnail(bytes.NewReader(buf.Bytes())) == nil {
			b.Fatal("no thumbnail")
		}
	}
}
