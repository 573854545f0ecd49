package web

import (
	"fmt"
	"net/http"

	"tandem/internal/delivery"
	"tandem/internal/errs"
	"tandem/internal/store"
	"tandem/internal/webhook"
)

// The admin's Webhooks page: every webhook of the account with its health (failing or
// not, calls waiting, the last error) and its latest invocations, and a "Send test"
// button that queues a test call through the delivery queue, so it shows in the log
// like any other. Webhooks are created and edited through the API (docs/WEBHOOKS.md).

type webhookRow struct {
	Hook        *webhook.Webhook
	Health      delivery.Health
	Invocations []*webhook.Invocation
}

func (s *Server) webhookRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin/webhooks", s.page(admin, s.webhooksPage))
	mux.HandleFunc("POST /admin/webhooks/{id}/test", s.page(admin, s.sendTestWebhook))
}

func (s *Server) webhooksPage(w http.ResponseWriter, r *http.Request, c *call) error {
	hooks, _, err := webhook.List(r.Context(), s.db.R(), c.Acct.ID, webhook.Filter{Limit: 100})
	if err != nil {
		return err
	}
	rows := make([]webhookRow, len(hooks))
	for i, h := range hooks {
		rows[i].Hook = h
		if rows[i].Health, err = delivery.HealthOf(r.Context(), s.db.R(), "webhook_outbox", int64(c.Acct.ID), "webhook_id = ?", h.ID); err != nil {
			return err
		}
		if rows[i].Invocations, _, err = webhook.Invocations(r.Context(), s.db.R(), c.Acct.ID, h.ID, 0, 5); err != nil {
			return err
		}
	}
	return s.render(w, r, c, http.StatusOK, "admin_webhooks", page{Title: "Webhooks", Area: "admin", Nav: "webhooks", Data: rows})
}

func (s *Server) sendTestWebhook(w http.ResponseWriter, r *http.Request, c *call) error {
	var hook *webhook.Webhook
	err := s.db.Write(r.Context(), func(tx *store.Tx) error {
		var err error
		if hook, err = webhook.Get(r.Context(), tx, c.Acct.ID, r.PathValue("id")); err != nil {
			return err
		}
		_, err = webhook.QueueTest(r.Context(), tx, c.Acct.ID, hook.ID, string(webhook.TestBody(hook.RequestFormat, c.Acct.Name)))
		return err
	})
	if errs.Is(err, errs.NotFound) {
		return redirectErr(w, r, "/admin/webhooks", err)
	}
	if err != nil {
		return err
	}
	if s.webhooks != nil {
		s.webhooks.Wake()
	}
	return redirect(w, r, "/admin/webhooks", fmt.Sprintf("A test call of %s is on its way; it shows below once made.", hook.Name))
}
