package mailin

import (
	"context"
	"errors"
	"fmt"
	"html"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/jhillyerd/enmime/v2"

	"tandem/internal/errs"
	"tandem/internal/ids"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// MaxMailFiles is how many attachments of one message are kept; the rest are named in
// the comment's note.
const MaxMailFiles = 50

// mailFiles is what became of a message's attachments before its transaction: the
// upload token they are stored under, which of them the body showed inline, and a note
// for every one that was not kept.
type mailFiles struct {
	token  string
	inline []int64
	notes  []string
}

// uploadAttachments puts a message's attachments and inline images through the
// attachments store (internal/files) as the system's upload: each is sniffed, scanned
// and size-checked like any upload. A file refused for what it is (too large, malware,
// a name that is not one) is left out with a note saying why; the message still becomes
// its comment. A store or scanner that is unavailable fails the message for a retry
// (nothing is lost: the message stays in the inbox).
func (s *Service) uploadAttachments(ctx context.Context, acct ids.Account, list []Attachment) (*mailFiles, error) {
	mf := &mailFiles{}
	if len(list) == 0 {
		return mf, nil
	}
	if s.cfg.Files == nil || !s.cfg.Files.Keeps() {
		mf.notes = append(mf.notes, fmt.Sprintf("%d attachment(s) not added: this server keeps no files (no --data-dir or --blob-store)", len(list)))
		return mf, nil
	}
	for i, a := range list {
		if i >= MaxMailFiles {
			mf.notes = append(mf.notes, fmt.Sprintf("%d more attachment(s) not added: a message keeps at most %d", len(list)-i, MaxMailFiles))
			break
		}
		// A large attachment is read from the spooled message, decoded on the way to the
		// store's own spool file: never whole in memory.
		up, err := s.cfg.Files.Upload(ctx, acct, 0, mf.token, a.FileName, a.Open())
		if errs.Is(err, errs.TooLarge) || errs.Is(err, errs.Invalid) {
			mf.notes = append(mf.notes, fmt.Sprintf("%q (%d bytes) was not added: %s", a.FileName, a.Size(), safeMessage(err)))
			continue
		}
		if err != nil {
			if mf.token != "" {
				_ = s.cfg.Files.DeleteSystemUpload(context.WithoutCancel(ctx), acct, mf.token)
			}
			return nil, err
		}
		mf.token = up.Token
		if n := len(up.Attachments); n > 0 && a.Inline {
			mf.inline = append(mf.inline, up.Attachments[n-1].ID)
		}
	}
	return mf, nil
}

// safeMessage is the client-safe message of a coded error.
func safeMessage(err error) string {
	var e *errs.Error
	if errors.As(err, &e) {
		return e.Error()
	}
	return "refused"
}

// attach gives the stored files to the comment the message became.
func (mf *mailFiles) attach(ctx context.Context, s *Service, tx *store.Tx, acct ids.Account, author ids.User, res *ticket.Result, cid ids.Comment) error {
	if mf.token == "" || cid == 0 {
		return nil
	}
	_, err := s.cfg.Files.AttachSystemUpload(ctx, tx, acct, mf.token, author, res.Ticket.ID, cid, mf.inline)
	return err
}

// discard deletes files that were stored for a message that did not become a comment
// (a duplicate): they would expire anyway, this frees them at once.
func (mf *mailFiles) discard(ctx context.Context, s *Service, acct ids.Account) {
	if mf.token == "" {
		return
	}
	if err := s.cfg.Files.DeleteSystemUpload(context.WithoutCancel(ctx), acct, mf.token); err != nil {
		s.log.Warn("mailin: discard attachments", "account", acct, "err", err)
	}
}

// note is the text added to the comment for attachments that were not kept.
func (mf *mailFiles) note() string {
	if len(mf.notes) == 0 {
		return ""
	}
	n := "\n\n[" + strings.Join(mf.notes, "]\n[") + "]"
	if len(n) > maxNote {
		cut := maxNote - 20
		for cut > 0 && !utf8.RuneStart(n[cut]) {
			cut--
		}
		n = n[:cut] + "…]"
	}
	return n
}

// maxNote bounds the note on attachments not kept.
const maxNote = 4000

// cidPlaceholders replaces the images an HTML body shows from its own parts
// (src="cid:...") with "[image: NAME]", so the comment made of the text says where each
// inline image was; the image itself is the comment's inline attachment. One pass over
// the HTML, no regular expression (hostile bodies are large).
func cidPlaceholders(h string, env *enmime.Envelope) string {
	if !strings.Contains(h, "cid:") {
		return h
	}
	names := map[string]string{}
	for _, p := range append(slices.Clone(env.Inlines), env.OtherParts...) {
		if id := strings.Trim(p.ContentID, "<> "); id != "" && p.FileName != "" {
			names[id] = clean(p.FileName)
		}
	}
	var b strings.Builder
	rest := h
	for {
		i := indexFold(rest, "<img")
		if i < 0 {
			break
		}
		end := strings.IndexByte(rest[i:], '>')
		if end < 0 {
			break
		}
		tag := rest[i : i+end+1]
		c := strings.Index(tag, "cid:")
		if c < 0 {
			b.WriteString(rest[:i+end+1])
			rest = rest[i+end+1:]
			continue
		}
		id := tag[c+4:]
		if k := strings.IndexAny(id, "\"' \t\r\n>"); k >= 0 {
			id = id[:k]
		}
		name := names[id]
		if name == "" {
			name = "image"
		}
		b.WriteString(rest[:i])
		b.WriteString("[image: " + html.EscapeString(name) + "]")
		rest = rest[i+end+1:]
	}
	b.WriteString(rest)
	return b.String()
}

// indexFold is strings.Index for an ASCII lower-case needle, ignoring the case of s.
func indexFold(s, needle string) int {
	for i := 0; i+len(needle) <= len(s); i++ {
		j := 0
		for j < len(needle) && (s[i+j]|0x20) == needle[j] {
			j++
		}
		if j == len(needle) {
			return i
		}
	}
	return -1
}
