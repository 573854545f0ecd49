package files

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"
)

// Scan results, as Zendesk's malware_scan_result names them.
const (
	ScanClean      = "malware_not_found"
	ScanInfected   = "malware_found"
	ScanNotScanned = "not_scanned"
	ScanFailed     = "failed_to_scan"
)

// Clamd is a client of ClamAV's daemon, speaking its INSTREAM command: the file goes
// over the socket in length-prefixed chunks and clamd answers "stream: OK" or
// "stream: NAME FOUND".
type Clamd struct {
	network, addr string
	// Timeout bounds one scan (connect, send, verdict).
	Timeout time.Duration
}

// NewClamd returns a client for "unix:///run/clamav/clamd.ctl" or "tcp://host:port".
func NewClamd(spec string) (*Clamd, error) {
	u, err := url.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("files: clamd %q: %w", spec, err)
	}
	switch u.Scheme {
	case "unix":
		if u.Path == "" {
			return nil, fmt.Errorf("files: clamd %q: no socket path (unix:///run/clamav/clamd.ctl)", spec)
		}
		return &Clamd{network: "unix", addr: u.Path, Timeout: 2 * time.Minute}, nil
	case "tcp":
		if u.Host == "" {
			return nil, fmt.Errorf("files: clamd %q: no host:port (tcp://127.0.0.1:3310)", spec)
		}
		return &Clamd{network: "tcp", addr: u.Host, Timeout: 2 * time.Minute}, nil
	}
	return nil, fmt.Errorf("files: clamd %q: must be unix:///path or tcp://host:port", spec)
}

func (c *Clamd) String() string { return c.network + "://" + c.addr }

// Verdict is what clamd said of one stream.
type Verdict struct {
	// Result is ScanClean or ScanInfected.
	Result string
	// Signature names what was found ("" when clean).
	Signature string
}

// chunk is the size of one INSTREAM chunk (clamd's default StreamMaxLength is far
// larger; the chunk only bounds the copy buffer).
const chunk = 64 << 10

// Scan streams r to clamd and returns its verdict. Any failure to get one (clamd down,
// a size limit hit, a timeout) is an error: the caller records ScanFailed and refuses
// the file, never calls it clean.
func (c *Clamd) Scan(ctx context.Context, r io.Reader) (Verdict, error) {
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, c.network, c.addr)
	if err != nil {
		return Verdict{}, fmt.Errorf("files: clamd: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	if _, err := io.WriteString(conn, "zINSTREAM\x00"); err != nil {
		return Verdict{}, fmt.Errorf("files: clamd: %w", err)
	}
	buf := make([]byte, 4+chunk)
	for {
		n, rerr := io.ReadFull(r, buf[4:])
		if n > 0 {
			binary.BigEndian.PutUint32(buf[:4], uint32(n))
			if _, err := conn.Write(buf[:4+n]); err != nil {
				// clamd closes early when a limit is hit; its answer says which.
				return c.verdict(conn, fmt.Errorf("files: clamd: send: %w", err))
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return Verdict{}, fmt.Errorf("files: clamd: read file: %w", rerr)
		}
	}
	if _, err := conn.Write([]byte{0, 0, 0, 0}); err != nil {
		return c.verdict(conn, fmt.Errorf("files: clamd: send: %w", err))
	}
	return c.verdict(conn, nil)
}

func (c *Clamd) verdict(conn net.Conn, sendErr error) (Verdict, error) {
	line, err := bufio.NewReader(io.LimitReader(conn, 4096)).ReadString(0)
	if err != nil && line == "" {
		if sendErr != nil {
			return Verdict{}, sendErr
		}
		return Verdict{}, fmt.Errorf("files: clamd: no verdict: %w", err)
	}
	line = strings.TrimSpace(strings.TrimRight(line, "\x00"))
	rest, _ := strings.CutPrefix(line, "stream: ")
	switch {
	case rest == "OK":
		return Verdict{Result: ScanClean}, nil
	case strings.HasSuffix(rest, " FOUND"):
		return Verdict{Result: ScanInfected, Signature: strings.TrimSuffix(rest, " FOUND")}, nil
	}
	return Verdict{}, errors.New("files: clamd: " + line)
}
