package api

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"

	"tandem/internal/errs"
	"tandem/internal/store"
	"tandem/internal/webhook"
)

// Webhooks, Zendesk's Webhooks API (docs/WEBHOOKS.md): admins only; another account's
// webhook is not found. Writes answer as Zendesk's do: create 201 with the webhook,
// update and patch 204, delete 204.

func (s *Server) webhookRoutes(mux *routeMux) {
	mux.HandleFunc("GET /api/v2/webhooks", s.h(admin, s.listWebhooks))
	mux.HandleFunc("POST /api/v2/webhooks", s.h(admin, s.createWebhook))
	mux.HandleFunc("POST /api/v2/webhooks/test", s.h(admin, s.testWebhook))
	mux.HandleFunc("GET /api/v2/webhooks/{id}", s.h(admin, s.showWebhook))
	mux.HandleFunc("PUT /api/v2/webhooks/{id}", s.h(admin, s.updateWebhook))
	mux.HandleFunc("PATCH /api/v2/webhooks/{id}", s.h(admin, s.updateWebhook))
	mux.HandleFunc("DELETE /api/v2/webhooks/{id}", s.h(admin, s.deleteWebhook))
	mux.HandleFunc("POST /api/v2/webhooks/{id}/test", s.h(admin, s.testWebhook))
	mux.HandleFunc("GET /api/v2/webhooks/{id}/signing_secret", s.h(admin, s.webhookSecret))
	mux.HandleFunc("POST /api/v2/webhooks/{id}/signing_secret", s.h(admin, s.webhookSecret))
	mux.HandleFunc("GET /api/v2/webhooks/{id}/invocations", s.h(admin, s.webhookInvocations))
	mux.HandleFunc("GET /api/v2/webhooks/{id}/invocations/{inv}/attempts", s.h(admin, s.webhookAttempts))
}

// webhookIn is a webhook as a client writes it; nil fields are left as they are (PATCH)
// or missing (create, PUT).
type webhookIn struct {
	Name           *string            `json:"name"`
	Description    *string            `json:"description"`
	Endpoint       *string            `json:"endpoint"`
	HTTPMethod     *string            `json:"http_method"`
	RequestFormat  *string            `json:"request_format"`
	Status         *string            `json:"status"`
	Subscriptions  *[]string          `json:"subscriptions"`
	Authentication json.RawMessage    `json:"authentication"`
	CustomHeaders  *map[string]string `json:"custom_headers"`
}

type authIn struct {
	Type        string            `json:"type"`
	Data        map[string]string `json:"data"`
	AddPosition string            `json:"add_position"`
}

// apply writes the given fields onto w (all of them when replace: what is missing is
// emptied, so validation names it).
func (in *webhookIn) apply(w *webhook.Webhook, replace bool) error {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		} else if replace {
			*dst = ""
		}
	}
	set(&w.Name, in.Name)
	set(&w.Description, in.Description)
	set(&w.Endpoint, in.Endpoint)
	set(&w.HTTPMethod, in.HTTPMethod)
	set(&w.RequestFormat, in.RequestFormat)
	set(&w.Status, in.Status)
	if in.Subscriptions != nil {
		w.Subscriptions = *in.Subscriptions
	} else if replace {
		w.Subscriptions = nil
	}
	if in.CustomHeaders != nil {
		w.CustomHeaders = *in.CustomHeaders
	} else if replace {
		w.CustomHeaders = nil
	}
	switch {
	case len(in.Authentication) == 0:
		if replace {
			w.Auth = nil
		}
	case string(in.Authentication) == "null":
		w.Auth = nil
	default:
		var a authIn
		if err := decodeBytes(in.Authentication, &a); err != nil {
			return errs.Invalidf("authentication", "InvalidValue", "must be an object with type, data and add_position")
		}
		if w.Auth != nil && w.Auth.Type == a.Type {
			// Credentials are write-only, so a webhook read and written back lacks them:
			// what is not given again is kept.
			if a.Data == nil {
				a.Data = map[string]string{}
			}
			for k, v := range w.Auth.Data {
				if _, given := a.Data[k]; !given {
					a.Data[k] = v
				}
			}
		}
		w.Auth = &webhook.Auth{Type: a.Type, Data: a.Data, AddPosition: a.AddPosition}
	}
	return nil
}

func webhookJSON(w *webhook.Webhook) map[string]any {
	var auth any
	if a := w.Auth; a != nil {
		// Credentials are write-only: only what names them is shown.
		data := map[string]string{}
		switch a.Type {
		case "basic_auth":
			data["username"] = a.Data["username"]
		case "api_key":
			data["name"] = a.Data["name"]
		}
		auth = map[string]any{"type": a.Type, "add_position": a.AddPosition, "data": data}
	}
	headers := w.CustomHeaders
	if headers == nil {
		headers = map[string]string{}
	}
	subs := w.Subscriptions
	if subs == nil {
		subs = []string{}
	}
	return map[string]any{
		"id": w.ID, "name": w.Name, "description": w.Description, "endpoint": w.Endpoint,
		"http_method": w.HTTPMethod, "request_format": w.RequestFormat, "status": w.Status,
		"subscriptions": subs, "authentication": auth, "custom_headers": headers,
		"created_at": ts(w.CreatedAt), "created_by": strconv.FormatInt(int64(w.CreatedBy), 10),
		"updated_at": ts(w.UpdatedAt), "updated_by": strconv.FormatInt(int64(w.UpdatedBy), 10),
	}
}

// cursorPage reads page[size] (at most 100) and page[after].
func cursorPage(r *http.Request) (size int, after string, err error) {
	q := r.URL.Query()
	size = maxPerPage
	if v := q.Get("page[size]"); v != "" {
		n, perr := strconv.Atoi(v)
		if perr != nil || n < 1 {
			return 0, "", errs.E(errs.BadRequest, "page[size] must be a whole number from 1 to %d", maxPerPage)
		}
		size = min(n, maxPerPage)
	}
	return size, q.Get("page[after]"), nil
}

// cursorKeys adds meta and links for a cursor page ending at last.
func cursorKeys(body map[string]any, r *http.Request, size int, first, last string, more bool) {
	body["meta"] = map[string]any{"has_more": more, "after_cursor": nullStr(last), "before_cursor": nullStr(first)}
	links := map[string]any{"next": nil, "prev": nil}
	if more {
		q := r.URL.Query()
		q.Set("page[after]", last)
		q.Set("page[size]", strconv.Itoa(size))
		links["next"] = baseURL(r) + r.URL.Path + "?" + q.Encode()
	}
	body["links"] = links
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request, c *Call) error {
	size, after, err := cursorPage(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	hooks, more, err := webhook.List(r.Context(), s.db.R(), c.Acct.ID, webhook.Filter{
		Status: q.Get("filter[status]"), NameContains: q.Get("filter[name_contains]"), After: after, Limit: size})
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(hooks))
	first, last := "", ""
	for i, h := range hooks {
		out[i] = webhookJSON(h)
		if i == 0 {
			first = h.ID
		}
		last = h.ID
	}
	body := map[string]any{"webhooks": out}
	cursorKeys(body, r, size, first, last, more)
	writeJSON(w, http.StatusOK, body)
	return nil
}

// decodeWebhook reads a body {"webhook": {...}}.
func (s *Server) decodeWebhook(r *http.Request) (*webhookIn, error) {
	var in struct {
		Webhook *webhookIn `json:"webhook"`
	}
	if err := s.decode(r, &in); err != nil {
		return nil, err
	}
	if in.Webhook == nil {
		return nil, errs.Invalidf("webhook", "BlankValue", "the body needs a webhook object")
	}
	return in.Webhook, nil
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request, c *Call) error {
	in, err := s.decodeWebhook(r)
	if err != nil {
		return err
	}
	hook := &webhook.Webhook{}
	if err := in.apply(hook, true); err != nil {
		return err
	}
	err = s.db.Write(r.Context(), func(tx *store.Tx) error {
		return webhook.Create(r.Context(), tx, c.Acct.ID, c.User.ID, hook)
	})
	if err != nil {
		return err
	}
	w.Header().Set("Location", c.URL("/api/v2/webhooks/"+hook.ID))
	writeJSON(w, http.StatusCreated, map[string]any{"webhook": webhookJSON(hook)})
	return nil
}

func (s *Server) showWebhook(w http.ResponseWriter, r *http.Request, c *Call) error {
	hook, err := webhook.Get(r.Context(), s.db.R(), c.Acct.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"webhook": webhookJSON(hook)})
	return nil
}

func (s *Server) updateWebhook(w http.ResponseWriter, r *http.Request, c *Call) error {
	in, err := s.decodeWebhook(r)
	if err != nil {
		return err
	}
	err = s.db.Write(r.Context(), func(tx *store.Tx) error {
		hook, err := webhook.Get(r.Context(), tx, c.Acct.ID, r.PathValue("id"))
		if err != nil {
			return err
		}
		if err := in.apply(hook, r.Method == http.MethodPut); err != nil {
			return err
		}
		return webhook.Save(r.Context(), tx, c.User.ID, hook)
	})
	if err != nil {
		return err
	}
	noContent(w)
	return nil
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request, c *Call) error {
	err := s.db.Write(r.Context(), func(tx *store.Tx) error {
		return webhook.Delete(r.Context(), tx, c.Acct.ID, r.PathValue("id"))
	})
	if err != nil {
		return err
	}
	noContent(w)
	return nil
}

func (s *Server) webhookSecret(w http.ResponseWriter, r *http.Request, c *Call) error {
	id := r.PathValue("id")
	var secret string
	status := http.StatusOK
	if r.Method == http.MethodPost {
		status = http.StatusCreated
		err := s.db.Write(r.Context(), func(tx *store.Tx) error {
			var err error
			secret, err = webhook.ResetSecret(r.Context(), tx, c.Acct.ID, c.User.ID, id)
			return err
		})
		if err != nil {
			return err
		}
	} else {
		hook, err := webhook.Get(r.Context(), s.db.R(), c.Acct.ID, id)
		if err != nil {
			return err
		}
		secret = hook.SigningSecret
	}
	writeJSON(w, status, map[string]any{"signing_secret": map[string]any{"algorithm": "SHA256", "secret": secret}})
	return nil
}

// testWebhook calls a webhook once, now, and answers with what its endpoint answered
// (Zendesk's test endpoint). The webhook is a stored one (webhook_id or the path), a
// new one described in the body's "webhook", or a stored one with the body's fields
// overriding; "request.payload" is the body sent (a small test payload when absent).
func (s *Server) testWebhook(w http.ResponseWriter, r *http.Request, c *Call) error {
	var in struct {
		Webhook *webhookIn `json:"webhook"`
		Request *struct {
			webhookIn
			Payload *string `json:"payload"`
		} `json:"request"`
	}
	body, err := s.readBody(r)
	if err != nil {
		return err
	}
	if len(body) > 0 {
		if err := decodeBytes(body, &in); err != nil {
			return err
		}
	}
	id := r.PathValue("id")
	if id == "" {
		id = r.URL.Query().Get("webhook_id")
	}
	hook := &webhook.Webhook{AccountID: c.Acct.ID, Status: webhook.StatusActive, Subscriptions: []string{webhook.ConditionalTicketEvents}}
	if id != "" {
		if hook, err = webhook.Get(r.Context(), s.db.R(), c.Acct.ID, id); err != nil {
			return err
		}
	}
	for _, over := range []*webhookIn{in.Webhook, reqFields(in.Request)} {
		if over != nil {
			if err := over.apply(hook, false); err != nil {
				return err
			}
		}
	}
	if hook.Status == "" {
		hook.Status = webhook.StatusActive
	}
	if hook.Name == "" {
		hook.Name = "Test" // a webhook being written may have no name yet
	}
	if len(hook.Subscriptions) == 0 {
		hook.Subscriptions = []string{webhook.ConditionalTicketEvents}
	}
	if err := hook.Validate(); err != nil {
		return err
	}
	var payload []byte
	if in.Request != nil && in.Request.Payload != nil {
		payload = []byte(*in.Request.Payload)
	} else {
		payload = webhook.TestBody(hook.RequestFormat, c.Acct.Name)
	}
	res := s.webhooks.Test(r.Context(), hook, payload)
	headers := []map[string]string{}
	keys := make([]string, 0, len(res.Header))
	for k := range res.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		headers = append(headers, map[string]string{"key": k, "value": res.Header.Get(k)})
	}
	resp := map[string]any{"status": res.Status, "headers": headers, "body": res.Body}
	if res.Error != "" {
		resp["error"] = res.Error
	}
	writeJSON(w, http.StatusOK, map[string]any{"response": resp})
	return nil
}

func reqFields(r *struct {
	webhookIn
	Payload *string `json:"payload"`
}) *webhookIn {
	if r == nil {
		return nil
	}
	return &r.webhookIn
}

// invocationStatus names an invocation's state as Zendesk's log does.
func invocationStatus(inv *webhook.Invocation) string {
	switch inv.Status {
	case "delivered":
		return "success"
	case "dead":
		return "failed"
	case "cancelled":
		return "cancelled"
	}
	if inv.Latest != nil {
		return "retrying"
	}
	return "pending"
}

func (s *Server) webhookInvocations(w http.ResponseWriter, r *http.Request, c *Call) error {
	size, after, err := cursorPage(r)
	if err != nil {
		return err
	}
	var before int64
	if after != "" {
		if before, err = strconv.ParseInt(after, 10, 64); err != nil || before <= 0 {
			return errs.E(errs.BadRequest, "page[after] is not a cursor this list gave")
		}
	}
	invs, more, err := webhook.Invocations(r.Context(), s.db.R(), c.Acct.ID, r.PathValue("id"), before, size)
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(invs))
	first, last := "", ""
	for i, inv := range invs {
		m := map[string]any{"id": inv.ID, "webhook_id": inv.WebhookID, "event_type": inv.EventType,
			"status": invocationStatus(inv), "created_at": ts(inv.CreatedAt), "attempts": inv.Attempts,
			"latest_completed_at": nil, "status_code": nil, "latency": nil, "response": nil}
		if a := inv.Latest; a != nil {
			m["latest_completed_at"], m["status_code"], m["latency"], m["response"] = ts(a.CompletedAt), nullInt(a.StatusCode), a.Latency.Milliseconds(), a.Response
		}
		if inv.Status == "dead" || inv.Status == "cancelled" {
			m["error"] = inv.LastError
		}
		out[i] = m
		seq := strconv.FormatInt(inv.Seq, 10)
		if i == 0 {
			first = seq
		}
		last = seq
	}
	body := map[string]any{"invocations": out}
	cursorKeys(body, r, size, first, last, more)
	writeJSON(w, http.StatusOK, body)
	return nil
}

func (s *Server) webhookAttempts(w http.ResponseWriter, r *http.Request, c *Call) error {
	if _, err := webhook.Get(r.Context(), s.db.R(), c.Acct.ID, r.PathValue("id")); err != nil {
		return err
	}
	as, err := webhook.Attempts(r.Context(), s.db.R(), c.Acct.ID, r.PathValue("id"), r.PathValue("inv"))
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(as))
	for i, a := range as {
		out[i] = map[string]any{"id": strconv.FormatInt(a.ID, 10), "invocation_id": r.PathValue("inv"), "status": a.Status,
			"status_code": nullInt(a.StatusCode), "latency": a.Latency.Milliseconds(), "completed_at": ts(a.CompletedAt),
			"response": map[string]any{"status": nullInt(a.StatusCode), "body": a.Response}}
	}
	writeJSON(w, http.StatusOK, map[string]any{"attempts": out})
	return nil
}

func nullInt(n int) any {
	if n == 0 {
		return nil
	}
	return n
}
