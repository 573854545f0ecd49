package rules

import (
	"encoding/json"
	"encoding/xml"
	"net/url"
	"slices"
	"strings"

	"tandem/internal/errs"
	"tandem/internal/ticket"
	"tandem/internal/webhook"
)

// The notification_webhook action: [webhook_id, body]. The body is rendered with the
// same placeholders and Liquid logic as email notifications, each placeholder's value
// escaped for the webhook's request format (so a subject with a quote keeps a JSON body
// valid), and recorded as an External audit event that the webhook service's
// after-hook queues (internal/webhook/send).

func checkWebhook(c *checker, _ Kind, a *Action, vpath string) {
	if !a.List || len(a.Value) != 2 {
		c.bad(vpath, "must be a list of [webhook_id, body]")
		return
	}
	id := strings.TrimSpace(a.Value[0])
	a.Value[0] = id
	w, err := webhook.Get(c.ctx, c.q, c.acct.ID, id)
	switch {
	case errs.Is(err, errs.NotFound):
		c.bad(vpath, "webhook %q does not exist", id)
	case err != nil:
		c.bad(vpath, "webhook %q could not be read", id)
	case !slices.Contains(w.Subscriptions, webhook.ConditionalTicketEvents):
		c.bad(vpath, "webhook %q is not subscribed to conditional_ticket_events", id)
	}
}

func (pl *planner) webhook(a Action) {
	if len(a.Value) == 2 {
		pl.notes = append(pl.notes, pendingNote{webhook: a.Value[0], body: a.Value[1]})
	}
}

// escaperFor returns how placeholder values are escaped in a body of the format.
func escaperFor(format string) func(string) string {
	switch format {
	case "json":
		return func(s string) string {
			var b strings.Builder
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(s)
			out := strings.TrimSuffix(b.String(), "\n")
			return out[1 : len(out)-1]
		}
	case "xml":
		return func(s string) string {
			var b strings.Builder
			_ = xml.EscapeText(&b, []byte(s))
			return b.String()
		}
	case "form_encoded":
		return url.QueryEscape
	}
	return nil
}

// webhookEvent renders a notification_webhook note as its External event.
func (e *eval) webhookEvent(r *renderer, n pendingNote) ticket.Event {
	var format string
	_ = e.tx.QueryRowContext(e.ctx, `SELECT request_format FROM webhooks WHERE account_id = ? AND id = ?`, e.ch.Account.ID, n.webhook).Scan(&format)
	wr := *r
	wr.escape = escaperFor(format)
	return ticket.Event{"type": "External", "resource": n.webhook, "body": wr.render(n.body), "via": n.via}
}
