package web

import (
	"fmt"
	"strings"
	"time"

	"tandem/internal/sharing"
)

// deliveryProblem says in words what is wrong with the deliveries to a partner and what
// happens next ("Globex's server did not answer; we will retry in 2 minutes"), or "" when
// nothing is. The raw error stays available as technical detail.
func deliveryProblem(partner string, h sharing.AgreementHealth, now time.Time) string {
	if h.LastError == "" {
		return ""
	}
	e := strings.ToLower(h.LastError)
	var what string
	switch {
	case strings.Contains(e, "redirect"):
		what = partner + "'s server sent us to another address; ask their administrator for their sharing address"
	case strings.Contains(e, "tls") || strings.Contains(e, "certificate") || strings.Contains(e, "x509"):
		what = partner + "'s server has a certificate problem; ask their administrator to fix it"
	case strings.Contains(e, "no such host"):
		what = partner + "'s server address cannot be found; check the address of the agreement"
	case strings.Contains(e, "answered 401") || strings.Contains(e, "answered 403"):
		what = partner + " refused our credentials; ask their administrator to check the agreement"
	case strings.Contains(e, "answered 404") || strings.Contains(e, "answered 405"):
		what = partner + "'s server does not know this sharing address; check the address of the agreement"
	case strings.Contains(e, "answered 5"):
		what = partner + "'s server had an internal problem"
	case strings.Contains(e, "answered 4"):
		what = partner + "'s server refused an update"
	default:
		what = partner + "'s server did not answer"
	}
	switch {
	case h.Pending > 0 && !h.NextAttempt.IsZero() && h.NextAttempt.After(now):
		return what + "; we will retry in " + inWords(h.NextAttempt.Sub(now)) + "."
	case h.Pending > 0:
		return what + "; we are retrying now."
	}
	return what + "; we stopped retrying the updates counted as failed."
}

// inWords reads a wait as people say it: "less than a minute", "2 minutes", "3 hours".
func inWords(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "less than a minute"
	case d < 2*time.Minute:
		return "1 minute"
	case d < time.Hour:
		return fmt.Sprintf("%d minutes", int((d+30*time.Second)/time.Minute))
	case d < 2*time.Hour:
		return "1 hour"
	}
	return fmt.Sprintf("%d hours", int((d+30*time.Minute)/time.Hour))
}
