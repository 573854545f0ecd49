package sharing

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"tandem/internal/account"
	"tandem/internal/delivery"
	"tandem/internal/errs"
	"tandem/internal/files"
	"tandem/internal/ids"
	"tandem/internal/sharing/peer"
	"tandem/internal/sharing/wire"
	"tandem/internal/store"
	"tandem/internal/ticket"
)

// Attachments over ticket sharing. The protocol carries files by URL only (pull). The
// sender lists each file of a comment that travels with a signed link that expires
// (files.Service.SignedPath on the sender's own host, re-signed at every delivery so a
// backlog never carries stale links), plus Tandem's extensions: uuid, size, sha256. The
// receiver writes one row per file to fetch (sharing_attachment_fetches, a client of the
// shared delivery queue) in the transaction that stores the comment, and a worker
// fetches it: only from the partner's own origin (same scheme, host and port as the
// agreement's URL; for an account on this server, its own /attachments/ path), through
// the same guarded client as every partner call, within the receiver's file limits,
// checked against the announced size and SHA-256, then sniffed, scanned and stored by
// files.Service as the receiver's own attachment. A fetch that fails for a transient
// reason is retried; one stored is never stored again (the row's attachment_id is set
// in the transaction that keeps the file). A redaction on either side is sent to the
// partners that hold the comment, which redact their copy.

// Fetcher downloads a file from a partner with the body unread. NetTransport is one.
type Fetcher interface {
	Fetch(ctx context.Context, url, token, signKey string) (*peer.Download, error)
}

// DefaultAttachmentLinkTTL is how long a signed link to a shared file stays valid
// after the delivery that carries it.
const DefaultAttachmentLinkTTL = 24 * time.Hour

// fetchTimeout bounds one download: longer than a protocol call, for large files.
const fetchTimeout = 2 * time.Minute

// mismatchRetries is how many times bytes that differ from what was announced are
// fetched again (a transfer cut short) before the fetch is given up.
const mismatchRetries = 2

// UseFiles lets attachments travel with shared comments, through fs (without it,
// comments travel without their files). The server calls it once, before Run.
func (s *Service) UseFiles(fs *files.Service) { s.files = fs }

// fetchRow is a file to fetch from a partner, as queued in sharing_attachment_fetches.
type fetchRow struct {
	agreementID, shareID, ticketID, commentID, authorID int64
	uuid, url, name, sha                                string
	size                                                int64
}

type fetchJob = delivery.Job[fetchRow]

func (s *Service) newFetches() *delivery.Queue[fetchRow] {
	return delivery.New(s.db, delivery.Spec[fetchRow]{
		Name:    "sharing-files",
		Table:   "sharing_attachment_fetches",
		Lane:    []string{"account_id", "share_id"},
		Columns: []string{"agreement_id", "share_id", "ticket_id", "comment_id", "author_id", "attachment_uuid", "url", "file_name", "sha256", "size"},
		Fields: func(r *fetchRow) []any {
			return []any{&r.agreementID, &r.shareID, &r.ticketID, &r.commentID, &r.authorID, &r.uuid, &r.url, &r.name, &r.sha, &r.size}
		},
		Deliver: s.fetch,
		Recorded: func(ctx context.Context, tx *store.Tx, j fetchJob, _ string) error {
			if s.cfg.DeliveryChanged == nil {
				return nil
			}
			return s.cfg.DeliveryChanged(ctx, tx, ids.Account(j.AccountID), ids.Ticket(j.Item.ticketID), j.Item.shareID)
		},
		LogAttrs: func(j fetchJob) []any {
			return []any{"agreement", j.Item.agreementID, "share", j.Item.shareID, "comment", j.Item.commentID, "file", j.Item.name}
		},
	}, delivery.Config{Workers: 4, BaseBackoff: s.cfg.BaseBackoff, MaxBackoff: s.cfg.MaxBackoff, Timeout: fetchTimeout, Owner: s.cfg.Owner}, s.log)
}

// FilesDrained reports whether no partner file waits to be fetched (tests wait on it).
func (s *Service) FilesDrained(ctx context.Context) bool { return s.fetches.Drained(ctx) }

// localAttachmentUUID names one of our own files on the wire.
func localAttachmentUUID(acct ids.Account, id int64) string {
	h := sha256.Sum256([]byte(fmt.Sprintf("tandem-attachment:%d:%d", acct, id)))
	return hex.EncodeToString(h[:20])
}

// attachmentUUIDs returns the wire uuid of each attachment: the partner's for a copy
// we fetched, our own otherwise.
func attachmentUUIDs(ctx context.Context, q store.Queryer, acct ids.Account, list []*files.Attachment) (map[int64]string, error) {
	out := make(map[int64]string, len(list))
	if len(list) == 0 {
		return out, nil
	}
	args := []any{acct}
	for _, a := range list {
		out[a.ID] = localAttachmentUUID(acct, a.ID)
		args = append(args, a.ID)
	}
	rows, err := q.QueryContext(ctx, `SELECT attachment_id, attachment_uuid FROM sharing_attachment_fetches WHERE account_id = ? AND attachment_id IN (`+store.In(len(list))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("sharing: attachment uuids: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var uuid string
		if err := rows.Scan(&id, &uuid); err != nil {
			return nil, err
		}
		out[id] = uuid
	}
	return out, rows.Err()
}

// linkBase is the origin under which the partner reaches our files: that of the URL
// the partner knows us by (local://SUB for an account on this server).
func linkBase(ag *Agreement) string {
	if rest, ok := strings.CutPrefix(ag.LocalURL, "local://"); ok {
		sub, _, _ := strings.Cut(rest, "/")
		return "local://" + sub
	}
	u, err := url.Parse(ag.LocalURL)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// wireAttachments lists a comment's files for the partner of ag, each with a signed
// link valid for the configured time. Redacted files are left out.
func (s *Service) wireAttachments(ctx context.Context, q store.Queryer, acct ids.Account, ag *Agreement, c *ticket.Comment) ([]wire.Attachment, error) {
	if s.files == nil || c.ID == 0 {
		return nil, nil
	}
	byComment, err := files.ForComments(ctx, q, acct, []ids.Comment{c.ID})
	if err != nil {
		return nil, err
	}
	list := byComment[c.ID]
	if len(list) == 0 {
		return nil, nil
	}
	uuids, err := attachmentUUIDs(ctx, q, acct, list)
	if err != nil {
		return nil, err
	}
	base := linkBase(ag)
	tx, _ := q.(*store.Tx)
	var out []wire.Attachment
	for _, a := range list {
		if a.Redacted() || base == "" {
			continue
		}
		p, err := s.files.SignedPathIn(ctx, tx, acct, a, store.Now().Add(s.cfg.AttachmentLinkTTL))
		if err != nil {
			return nil, err
		}
		out = append(out, wire.Attachment{URL: base + p, Filename: a.FileName, DisplayFilename: a.FileName, ContentType: a.ContentType,
			UUID: uuids[a.ID], Size: a.Size, SHA256: a.SHA256})
	}
	return out, nil
}

// refreshLinks signs again, for a fresh expiry, the links to our own files in a queued
// body about to be delivered: a body may wait in the outbox longer than a link lives.
func (s *Service) refreshLinks(ctx context.Context, acct ids.Account, ag *Agreement, body string) string {
	base := linkBase(ag)
	if s.files == nil || base == "" || !strings.Contains(body, "/attachments/") {
		return body
	}
	t, err := wire.DecodeTicket(strings.NewReader(body), s.cfg.MaxBody)
	if err != nil {
		return body
	}
	changed := false
	for i := range t.Comments {
		for j := range t.Comments[i].Attachments {
			wa := &t.Comments[i].Attachments[j]
			rest, ok := strings.CutPrefix(wa.URL, base+"/attachments/")
			if !ok {
				continue
			}
			idText, _, _ := strings.Cut(rest, "/")
			id, err := strconv.ParseInt(idText, 10, 64)
			if err != nil {
				continue
			}
			a, err := files.Get(ctx, s.db.R(), acct, id)
			if err != nil || a.Redacted() {
				continue // the partner's fetch will be refused: the file is gone
			}
			p, err := s.files.SignedPath(ctx, acct, a, store.Now().Add(s.cfg.AttachmentLinkTTL))
			if err != nil {
				s.log.Warn("sharing: re-sign attachment link", "attachment", id, "err", err)
				return body
			}
			wa.URL, changed = base+p, true
		}
	}
	if !changed {
		return body
	}
	b, err := wire.EncodeTicket(t)
	if err != nil {
		return body
	}
	return string(b)
}

// fetchAllowed says whether the receiver may fetch raw for the partner of ag: only from
// the partner itself. It returns the reason when not.
func fetchAllowed(ag *Agreement, raw string) (bool, string) {
	if strings.HasPrefix(ag.RemoteURL, "local://") {
		if ag.RemoteSubdomain != "" && strings.HasPrefix(raw, "local://"+ag.RemoteSubdomain+"/attachments/") {
			return true, ""
		}
		return false, "refused: the file's URL is not a file link of " + ag.Name
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return false, "refused: the file's URL is not an http(s) URL"
	}
	if !peer.SameOrigin(raw, ag.RemoteURL) {
		return false, fmt.Sprintf("refused: the file is on %s, not on the partner's host", u.Host)
	}
	return true, ""
}

// wireUUID is the uuid a partner's attachment is known by: its own, or for a plain peer
// (which sends none) one derived from its URL without the query, which is stable across
// retransmissions of the comment.
func wireUUID(a wire.Attachment) string {
	if a.UUID != "" {
		return clipString(a.UUID, 100)
	}
	u := a.URL
	if i := strings.IndexByte(u, '?'); i >= 0 {
		u = u[:i]
	}
	h := sha256.Sum256([]byte(u))
	return "url-" + hex.EncodeToString(h[:20])
}

func clipString(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// fileName is what the receiver calls a partner's file.
func fileName(a wire.Attachment) string {
	for _, n := range []string{a.DisplayFilename, a.Filename} {
		if strings.TrimSpace(n) != "" {
			return clipString(n, 1000)
		}
	}
	if u, err := url.Parse(a.URL); err == nil {
		if b := path.Base(u.Path); b != "/" && b != "." {
			return clipString(b, 1000)
		}
	}
	return "attachment"
}

// queueFetches writes, in the transaction that stored a partner's comments, one fetch
// row per file of each comment that is new here (uuids). A file whose URL is not the
// partner's is recorded as refused and never fetched.
func (s *Service) queueFetches(ctx context.Context, tx *store.Tx, ag *Agreement, sh *Share, in []wire.Comment, added []*ticket.CommentInput) error {
	if s.files == nil || len(added) == 0 {
		return nil
	}
	byUUID := map[string]*wire.Comment{}
	for i := range in {
		if byUUID[in[i].UUID] == nil {
			byUUID[in[i].UUID] = &in[i]
		}
	}
	queued := false
	now := store.Micros(store.Now())
	for _, ci := range added {
		wc := byUUID[ci.UUID]
		if wc == nil || len(wc.Attachments) == 0 {
			continue
		}
		var cid, author int64
		err := tx.QueryRowContext(ctx, `SELECT id, author_id FROM ticket_comments WHERE account_id = ? AND ticket_id = ? AND uuid = ?`, ag.AccountID, sh.TicketID, ci.UUID).Scan(&cid, &author)
		if err != nil {
			return fmt.Errorf("sharing: find received comment: %w", err)
		}
		for n, wa := range wc.Attachments {
			if n >= files.MaxUploadsPerComment || wa.Redacted {
				break
			}
			status, reason := "pending", ""
			if ok, why := fetchAllowed(ag, wa.URL); !ok {
				status, reason = "dead", why
			} else if wa.Size < 0 {
				status, reason = "dead", "refused: the announced size is negative"
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO sharing_attachment_fetches (account_id, agreement_id, share_id, ticket_id, comment_id, author_id, attachment_uuid, url, file_name, size, sha256, status, last_error, next_attempt_at, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, comment_id, attachment_uuid) DO NOTHING`,
				ag.AccountID, ag.ID, sh.ID, sh.TicketID, cid, author, wireUUID(wa), clipString(wa.URL, 4000), fileName(wa), max(wa.Size, 0), clipString(strings.ToLower(wa.SHA256), 64), status, reason, now, now)
			if err != nil {
				return fmt.Errorf("sharing: queue attachment fetch: %w", err)
			}
			if status == "pending" {
				queued = true
			} else {
				s.log.Warn("sharing: partner file refused", "agreement", ag.ID, "comment", cid, "reason", reason)
			}
		}
	}
	if queued {
		tx.AfterCommit(s.fetches.Wake)
	}
	return nil
}

// errFetchSettled means the fetch was done or withdrawn meanwhile (stored by another
// attempt, or redacted by the partner before it arrived): nothing more to do.
var errFetchSettled = errors.New("sharing: attachment fetch already settled")

// fetch downloads one partner file and keeps it (a delivery-queue Deliver).
func (s *Service) fetch(ctx context.Context, j fetchJob) delivery.Result {
	row := j.Item
	acct := ids.Account(j.AccountID)
	ag, err := GetAgreement(ctx, s.db.R(), acct, row.agreementID)
	if err != nil || !ag.Active() {
		return delivery.Result{Outcome: delivery.Fatal, Reason: "the agreement is no longer active"}
	}
	if ok, why := fetchAllowed(ag, row.url); !ok {
		return delivery.Result{Outcome: delivery.Fatal, Reason: why}
	}
	f, ok := s.transport.(Fetcher)
	if !ok || s.files == nil {
		return delivery.Result{Outcome: delivery.Fatal, Reason: "this server cannot fetch partner files"}
	}
	if _, none := s.files.Blobs().(files.NoBlobs); none {
		return delivery.Result{Outcome: delivery.Fatal, Reason: "this server keeps no files (no --data-dir or --blob-store)"}
	}
	d, err := f.Fetch(ctx, row.url, wire.FormatToken(ag.UUID, ag.AccessKey), ag.AccessKey)
	if err != nil {
		res := delivery.Result{Outcome: delivery.Retry, Reason: peer.Reason(nil, err)}
		if peer.Classify(0, err) == peer.Fatal {
			res.Outcome = delivery.Fatal
		}
		return res
	}
	defer d.Body.Close()
	if d.Status != http.StatusOK {
		res := delivery.Result{Outcome: delivery.Fatal, Status: d.Status, RetryAfter: d.RetryAfter,
			Reason: fmt.Sprintf("the partner answered %d for the file", d.Status)}
		if peer.Classify(d.Status, nil) == peer.Retry {
			res.Outcome = delivery.Retry
		}
		return res
	}
	if n, err := strconv.ParseInt(d.Header.Get("Content-Length"), 10, 64); err == nil && row.size > 0 && n != row.size {
		return delivery.Result{Outcome: delivery.Fatal, Status: d.Status, Reason: fmt.Sprintf("refused: the partner sends %d bytes, %d were announced", n, row.size)}
	}
	_, err = s.files.Receive(ctx, acct, files.Received{TicketID: ids.Ticket(row.ticketID), CommentID: ids.Comment(row.commentID), UploaderID: ids.User(row.authorID),
		Name: row.name, Body: io.LimitReader(d.Body, max(s.files.Config().MaxFileSize, row.size)+1), Size: row.size, SHA256: row.sha,
		Claim: func(ctx context.Context, tx *store.Tx, id int64) error {
			res, err := tx.ExecContext(ctx, `UPDATE sharing_attachment_fetches SET attachment_id = ? WHERE account_id = ? AND id = ? AND attachment_id = 0 AND status = 'pending'`, id, acct, j.ID)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return errFetchSettled
			}
			return nil
		}})
	switch {
	case err == nil:
		return delivery.Result{Status: d.Status}
	case errors.Is(err, errFetchSettled):
		return delivery.Result{Outcome: delivery.Fatal, Reason: "withdrawn: redacted by the partner or already stored"}
	case errors.Is(err, files.ErrMismatch):
		res := delivery.Result{Outcome: delivery.Fatal, Status: d.Status, Reason: "refused: " + err.Error()}
		if j.Attempts < mismatchRetries {
			res.Outcome = delivery.Retry
		}
		return res
	case errs.Is(err, errs.TooLarge), errs.Is(err, errs.Invalid):
		return delivery.Result{Outcome: delivery.Fatal, Status: d.Status, Reason: "refused: " + err.Error()}
	}
	return delivery.Result{Outcome: delivery.Retry, Status: d.Status, Reason: "the file could not be stored: " + err.Error()}
}

// partnerRedactions carries out a partner's redactions: a comment we hold sent again
// with attachments marked redacted. Our copy of each is redacted (audited as the
// partner's change, and not sent back to it); a file not fetched yet never will be.
func (s *Service) partnerRedactions(ctx context.Context, tx *store.Tx, acct *account.Account, ag *Agreement, sh *Share, t *ticket.Ticket, actorID ids.User, in []wire.Comment) error {
	if s.files == nil {
		return nil
	}
	for _, wc := range in {
		redacted := map[string]bool{}
		for _, wa := range wc.Attachments {
			if wa.Redacted && wa.UUID != "" {
				redacted[clipString(wa.UUID, 100)] = true
			}
		}
		if len(redacted) == 0 || wc.UUID == "" {
			continue
		}
		var cid ids.Comment
		err := tx.QueryRowContext(ctx, `SELECT id FROM ticket_comments WHERE account_id = ? AND ticket_id = ? AND uuid = ?`, acct.ID, t.ID, wc.UUID).Scan(&cid)
		if errors.Is(err, store.ErrNoRows) {
			continue
		}
		if err != nil {
			return err
		}
		byComment, err := files.ForComments(ctx, tx, acct.ID, []ids.Comment{cid})
		if err != nil {
			return err
		}
		uuids, err := attachmentUUIDs(ctx, tx, acct.ID, byComment[cid])
		if err != nil {
			return err
		}
		base := &ticket.Patch{Via: partnerVia(ag), Origin: partnerOrigin(ag, sh.ID)}
		actor := ticket.Actor{UserID: actorID, Role: "end-user", Name: ag.Name}
		for _, a := range byComment[cid] {
			if !redacted[uuids[a.ID]] || a.Redacted() {
				continue
			}
			if _, err := s.files.RedactIn(ctx, tx, s.tickets, acct, actor, t.ID, cid, a.ID, base); err != nil {
				return err
			}
		}
		for uuid := range redacted {
			if err := delivery.Cancel(ctx, tx, "sharing_attachment_fetches", "redacted by the partner before it arrived",
				"account_id = ? AND comment_id = ? AND attachment_uuid = ? AND attachment_id = 0", acct.ID, cid, uuid); err != nil {
				return err
			}
		}
	}
	return nil
}

// redactionComments are the comments of a change whose files were redacted, sent again
// to the partner of sh with those files marked redacted: to every partner that may hold
// the comment, including the one it came from. (The change's audit is written before
// the file row is rewritten, so the files are named by the change's events.)
func (s *Service) redactionComments(ctx context.Context, tx *store.Tx, ch *ticket.Change, ag *Agreement, sh *Share, who actors) ([]wire.Comment, error) {
	if s.files == nil {
		return nil, nil
	}
	byComment := map[ids.Comment][]int64{}
	var order []ids.Comment
	for _, e := range ch.Events {
		if e["type"] != "AttachmentRedactionEvent" {
			continue
		}
		cid := ids.Comment(eventInt(e["comment_id"]))
		if cid == 0 {
			continue
		}
		if byComment[cid] == nil {
			order = append(order, cid)
		}
		byComment[cid] = append(byComment[cid], eventInt(e["attachment_id"]))
	}
	var out []wire.Comment
	for _, cid := range order {
		c, err := ticket.GetComment(ctx, tx, ch.Account.ID, ch.Ticket.ID, cid)
		if err != nil {
			continue
		}
		fromPartner := c.Origin != nil && c.Origin.AgreementID == ag.ID
		if !fromPartner && !commentTravels(ag, c) || !heldBy(sh, c) {
			continue
		}
		var list []*files.Attachment
		for _, id := range byComment[cid] {
			if a, err := files.Get(ctx, tx, ch.Account.ID, id); err == nil && a.CommentID == cid {
				list = append(list, a)
			}
		}
		uuids, err := attachmentUUIDs(ctx, tx, ch.Account.ID, list)
		if err != nil {
			return nil, err
		}
		wc := s.wireComment(ctx, tx, ch.Account.ID, ag, sh.Direction, c, who)
		for _, a := range list {
			wc.Attachments = append(wc.Attachments, wire.Attachment{UUID: uuids[a.ID], Filename: a.FileName, DisplayFilename: a.FileName, ContentType: a.ContentType, Redacted: true})
		}
		if len(wc.Attachments) > 0 {
			out = append(out, wc)
		}
	}
	return out, nil
}

func eventInt(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case int:
		return int64(n)
	case float64:
		return int64(n)
	case ids.Comment:
		return int64(n)
	}
	return 0
}

// hasRedactions reports whether a partner's comments mark any file redacted.
func hasRedactions(in []wire.Comment) bool {
	for _, wc := range in {
		for _, wa := range wc.Attachments {
			if wa.Redacted {
				return true
			}
		}
	}
	return false
}
