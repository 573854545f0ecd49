package api

import (
	"context"
	"net/http"
	"strconv"

	"tandem/internal/errs"
	"tandem/internal/files"
	"tandem/internal/ids"
	"tandem/internal/ticket"
)

// Attachments: Zendesk's uploads API (POST /uploads with the raw file, the token then
// named in comment.uploads), attachments shown on comments, their download with the
// caller's credentials and redaction. Who may fetch a file is who may see the comment
// it belongs to (an upload not yet attached: only its uploader).

func (s *Server) attachmentRoutes(mux *routeMux) {
	mux.HandleFunc("POST /api/v2/uploads", s.h(endUser, s.upload))
	mux.HandleFunc("DELETE /api/v2/uploads/{token}", s.h(endUser, s.deleteUpload))
	mux.HandleFunc("GET /api/v2/attachments/{id}", s.h(endUser, s.showAttachment))
	mux.HandleFunc("GET /api/v2/attachments/{id}/content", s.h(endUser, s.attachmentContent))
	mux.HandleFunc("PUT /api/v2/tickets/{id}/comments/{cid}/attachments/{aid}/redact", s.h(agent, s.redactAttachment))
}

func (s *Server) upload(w http.ResponseWriter, r *http.Request, c *Call) error {
	q := r.URL.Query()
	up, err := s.files.Upload(r.Context(), c.Acct.ID, c.User.ID, q.Get("token"), q.Get("filename"), r.Body)
	if err != nil {
		return err
	}
	list := make([]any, 0, len(up.Attachments))
	for _, a := range up.Attachments {
		list = append(list, s.attachmentJSON(c, a))
	}
	var last any
	if len(list) > 0 {
		last = list[len(list)-1]
	}
	writeJSON(w, http.StatusCreated, map[string]any{"upload": map[string]any{
		"token":       up.Token,
		"expires_at":  ts(up.ExpiresAt),
		"attachment":  last,
		"attachments": list,
	}})
	return nil
}

func (s *Server) deleteUpload(w http.ResponseWriter, r *http.Request, c *Call) error {
	if err := s.files.DeleteUpload(r.Context(), c.Acct.ID, c.User.ID, r.PathValue("token")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// visibleAttachment reads the attachment of the path's {id} if the caller may see it;
// to anyone else it does not exist (404, never 403: its existence is not told).
func (s *Server) visibleAttachment(r *http.Request, c *Call) (*files.Attachment, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	a, err := files.Get(r.Context(), s.db.R(), c.Acct.ID, id)
	if err != nil {
		return nil, err
	}
	if ok, err := files.CanSee(r.Context(), s.db.R(), c.Actor(), a); err != nil || !ok {
		if err == nil {
			err = errs.NotFoundf("attachment %d not found", id)
		}
		return nil, err
	}
	return a, nil
}

func (s *Server) showAttachment(w http.ResponseWriter, r *http.Request, c *Call) error {
	a, err := s.visibleAttachment(r, c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"attachment": s.attachmentJSON(c, a)})
	return nil
}

func (s *Server) attachmentContent(w http.ResponseWriter, r *http.Request, c *Call) error {
	a, err := s.visibleAttachment(r, c)
	if err != nil {
		return err
	}
	s.files.Serve(w, r, a)
	return nil
}

func (s *Server) redactAttachment(w http.ResponseWriter, r *http.Request, c *Call) error {
	tid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	cid, err := pathID(r, "cid")
	if err != nil {
		return err
	}
	aid, err := pathID(r, "aid")
	if err != nil {
		return err
	}
	t, err := ticket.Get(r.Context(), s.db.R(), c.Acct.ID, ids.Ticket(tid))
	if err != nil {
		return err
	}
	if acc, err := ticket.AccessFor(r.Context(), s.db.R(), c.Actor(), t); err != nil || !acc.Edit {
		if err == nil {
			err = errs.NotFoundf("ticket %d not found", tid)
		}
		return err
	}
	a, err := s.files.Redact(r.Context(), s.tickets, c.Acct, c.Actor(), t.ID, ids.Comment(cid), aid)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"attachment": s.attachmentJSON(c, a)})
	return nil
}

// attachmentJSON is Zendesk's attachment object. content_url needs the caller's
// credentials (API clients); mail and partners get signed links instead.
func (s *Server) attachmentJSON(c *Call, a *files.Attachment) map[string]any {
	id := strconv.FormatInt(a.ID, 10)
	content := c.URL("/api/v2/attachments/" + id + "/content")
	thumbs := make([]any, 0, len(a.Thumbnails))
	for _, t := range a.Thumbnails {
		thumbs = append(thumbs, s.attachmentJSON(c, t))
	}
	out := map[string]any{
		"url":                     c.URL("/api/v2/attachments/" + id + ".json"),
		"id":                      a.ID,
		"file_name":               a.FileName,
		"content_url":             content,
		"mapped_content_url":      content,
		"content_type":            a.ContentType,
		"size":                    a.Size,
		"width":                   nil,
		"height":                  nil,
		"inline":                  a.Inline,
		"deleted":                 a.Redacted(),
		"malware_access_override": false,
		"malware_scan_result":     a.ScanResult,
		"thumbnails":              thumbs,
	}
	if a.Width > 0 {
		out["width"], out["height"] = a.Width, a.Height
	}
	if a.Redacted() {
		out["redacted_by_id"] = int64(a.RedactedBy)
		out["redacted_at"] = ts(a.RedactedAt)
	}
	return out
}

// fillAttachments sets "attachments" on rendered comments (maps with an int64 "id")
// from the attachments table, in one query for the lot.
func (s *Server) fillAttachments(ctx context.Context, c *Call, comments []map[string]any) error {
	list := make([]ids.Comment, 0, len(comments))
	for _, cm := range comments {
		if id, ok := cm["id"].(int64); ok {
			list = append(list, ids.Comment(id))
		}
	}
	if len(list) == 0 {
		return nil
	}
	by, err := files.ForComments(ctx, s.db.R(), c.Acct.ID, list)
	if err != nil {
		return err
	}
	for _, cm := range comments {
		id, _ := cm["id"].(int64)
		out := []any{}
		for _, a := range by[ids.Comment(id)] {
			out = append(out, s.attachmentJSON(c, a))
		}
		cm["attachments"] = out
	}
	return nil
}

// fillAuditAttachments sets "attachments" on the Comment events of rendered audits.
func (s *Server) fillAuditAttachments(ctx context.Context, c *Call, audits ...map[string]any) error {
	var events []map[string]any
	for _, a := range audits {
		evs, _ := a["events"].([]map[string]any)
		for _, ev := range evs {
			if ev["type"] == "Comment" {
				events = append(events, ev)
			}
		}
	}
	return s.fillAttachments(ctx, c, events)
}
