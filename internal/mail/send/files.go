package send

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"strconv"
	"strings"
	"time"

	"tandem/internal/account"
	"tandem/internal/delivery"
	"tandem/internal/files"
	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// Attachments of outgoing mail, as Zendesk sends them: a notification about a comment
// carries the comment's files, attached up to a total size per mail (AttachMax, default
// 10 MB, in the order they were uploaded; each file whole or not at all), the others as
// signed links that expire (LinkTTL, default 30 days) and need no sign-in. Files that
// were redacted or found infected are neither attached nor linked. The queued row keeps
// the composed text and HTML and the ids of the attached files; their bytes are read
// from the blob store when the mail is sent, so the queue does not hold them.

// DefaultAttachMax is the default largest total of files attached to one mail.
const DefaultAttachMax = 10 << 20

// DefaultLinkTTL is how long the signed links of files not attached work by default.
const DefaultLinkTTL = 30 * 24 * time.Hour

// mailFiles splits files into those attached (their ids) and the text naming those
// linked instead.
func (s *Service) mailFiles(ctx context.Context, tx *store.Tx, acct *account.Account, list []*files.Attachment) (attached []int64, links string, err error) {
	if s.cfg.Files == nil || len(list) == 0 {
		return nil, "", nil
	}
	var total int64
	var b strings.Builder
	for _, a := range list {
		if a.Redacted() || a.ScanResult == files.ScanInfected || a.ParentID != 0 {
			continue
		}
		if total+a.Size <= s.cfg.AttachMax {
			total += a.Size
			attached = append(attached, a.ID)
			continue
		}
		path, err := s.cfg.Files.SignedPathTx(ctx, tx, acct.ID, a, store.Now().Add(s.cfg.LinkTTL))
		if err != nil {
			return nil, "", fmt.Errorf("send: link to file: %w", err)
		}
		if b.Len() == 0 {
			b.WriteString("\n\nAttachments (links valid until " + store.Now().Add(s.cfg.LinkTTL).Format("2 January 2006") + "):\n")
		}
		fmt.Fprintf(&b, "- %s (%s): %s%s\n", oneLine(a.FileName), humanSize(a.Size), s.cfg.AccountURL(acct.Subdomain), path)
	}
	return attached, b.String(), nil
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MB"
	case n >= 1<<10:
		return strconv.FormatInt((n+512)>>10, 10) + " KB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// commentFiles are the files of the change's comments that a recipient may have: an
// end user only those of public comments.
func commentFiles(byComment map[ids.Comment][]*files.Attachment, comments []*ticket.Comment, staff bool) []*files.Attachment {
	var out []*files.Attachment
	for _, c := range comments {
		if staff || c.Public {
			out = append(out, byComment[c.ID]...)
		}
	}
	return out
}

// errFileGone is a file attached to a queued mail whose bytes are no longer stored.
var errFileGone = errors.New("send: file no longer stored")

// withFiles returns the queued message with the files attached: the stored message's
// body becomes the first part of a multipart/mixed, each file a base64 part after it.
// The boundary is derived from the message, so a retry sends the same bytes. A file
// redacted or deleted since the mail was queued is left out.
func (s *Service) withFiles(ctx context.Context, acct ids.Account, msg []byte, list string) ([]byte, error) {
	head, body, ok := bytes.Cut(msg, []byte("\r\n\r\n"))
	if !ok || s.cfg.Files == nil {
		return msg, nil
	}
	var ctLine string
	var kept [][]byte
	for _, l := range bytes.Split(head, []byte("\r\n")) {
		if bytes.HasPrefix(bytes.ToLower(l), []byte("content-type:")) {
			ctLine = string(l)
			continue
		}
		kept = append(kept, l)
	}
	sum := sha256.Sum256(msg)
	boundary := "tandem-mixed-" + hex.EncodeToString(sum[:12])
	var b bytes.Buffer
	b.Grow(len(msg) + 4096)
	for _, l := range kept {
		b.Write(l)
		b.WriteString("\r\n")
	}
	b.WriteString(`Content-Type: multipart/mixed; boundary="` + boundary + "\"\r\n\r\n")
	b.WriteString("--" + boundary + "\r\n" + ctLine + "\r\n\r\n")
	b.Write(body)
	for _, f := range strings.Split(list, ",") {
		id, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			continue
		}
		a, err := files.Get(ctx, s.db.R(), acct, id)
		if err != nil || a.Redacted() {
			continue // deleted or redacted since: not sent
		}
		if err := s.writeFile(ctx, &b, boundary, a); errors.Is(err, errFileGone) {
			continue
		} else if err != nil {
			return nil, err
		}
	}
	b.WriteString("\r\n--" + boundary + "--\r\n")
	return b.Bytes(), nil
}

// writeFile writes one file as a MIME part of the mixed message.
func (s *Service) writeFile(ctx context.Context, b *bytes.Buffer, boundary string, a *files.Attachment) error {
	r, err := s.cfg.Files.Open(ctx, a)
	if errors.Is(err, files.ErrNoBlob) {
		return errFileGone
	}
	if err != nil {
		return err
	}
	defer r.Close()
	name := oneLine(a.FileName)
	b.WriteString("\r\n--" + boundary + "\r\n")
	b.WriteString("Content-Type: " + partType(a.ContentType, name) + "\r\n")
	disp := mime.FormatMediaType("attachment", map[string]string{"filename": name})
	if disp == "" {
		disp = "attachment"
	}
	b.WriteString("Content-Disposition: " + disp + "\r\n")
	b.WriteString("Content-Transfer-Encoding: base64\r\n\r\n")
	lw := &lineWriter{w: b}
	enc := base64.NewEncoder(base64.StdEncoding, lw)
	if _, err := io.Copy(enc, r); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	if lw.n > 0 {
		b.WriteString("\r\n")
	}
	return nil
}

// partType is the Content-Type of a file's part: its sniffed type with its parameters
// and the file's name (RFC 2231-encoded when it needs to be).
func partType(ct, name string) string {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		mt, params = "application/octet-stream", map[string]string{}
	}
	params["name"] = name
	if v := mime.FormatMediaType(mt, params); v != "" {
		return v
	}
	return "application/octet-stream"
}

// lineWriter breaks base64 into 76-character lines.
type lineWriter struct {
	w *bytes.Buffer
	n int
}

func (l *lineWriter) Write(p []byte) (int, error) {
	for i := range p {
		l.w.WriteByte(p[i])
		l.n++
		if l.n == 76 {
			l.w.WriteString("\r\n")
			l.n = 0
		}
	}
	return len(p), nil
}

// prepare is the message as it is sent: with its files when it has any (an unavailable
// store is a reason to retry), then signed with DKIM when a key covers its From domain.
func (s *Service) prepare(ctx context.Context, j delivery.Job[row]) ([]byte, *delivery.Result) {
	msg := []byte(j.Item.message)
	if j.Item.files != "" {
		full, err := s.withFiles(ctx, ids.Account(j.AccountID), msg, j.Item.files)
		if err != nil {
			return nil, &delivery.Result{Outcome: delivery.Retry, Reason: "the file store is unavailable: " + err.Error()}
		}
		msg = full
	}
	// The account's own key signs when it covers the From domain; else the server's.
	key, ok, err := s.signingKey(ctx, ids.Account(j.AccountID), j.Item.from)
	if err != nil {
		return nil, &delivery.Result{Outcome: delivery.Retry, Reason: "DKIM: " + err.Error()}
	}
	var signed []byte
	switch {
	case ok:
		signed, err = key.sign(msg, store.Now())
	case s.dkim != nil:
		signed, err = s.dkim.sign(j.Item.from, msg, store.Now())
	default:
		return msg, nil
	}
	if err != nil {
		return nil, &delivery.Result{Outcome: delivery.Fatal, Reason: "DKIM signing failed: " + err.Error()}
	}
	return signed, nil
}
