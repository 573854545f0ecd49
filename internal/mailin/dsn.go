package mailin

import (
	"bufio"
	"bytes"
	"net/textproto"
	"strings"
	"unicode/utf8"

	"github.com/jhillyerd/enmime/v2"
)

// DSN is a delivery status notification (RFC 3464): the report a mail server sends
// back when it could not deliver (or has not yet delivered) a message.
type DSN struct {
	// MessageID is the Message-ID of the message the report is about (without angle
	// brackets), read from the original message or its headers returned with the
	// report; "" when the report returned neither.
	MessageID  string
	Recipients []DSNRecipient
}

// DSNRecipient is the report on one recipient.
type DSNRecipient struct {
	Address    string // Final-Recipient (else Original-Recipient), lower-case
	Action     string // failed, delayed, delivered, relayed, expanded
	Status     string // 5.1.1
	Diagnostic string // Diagnostic-Code's text: the remote server's answer
}

// Hard reports whether the recipient failed for good: the action "failed" with a
// permanent (5.x.x) status, or without a status.
func (r DSNRecipient) Hard() bool {
	return r.Action == "failed" && !strings.HasPrefix(r.Status, "4")
}

// Reason is the report on the recipient in words, for the agent.
func (r DSNRecipient) Reason() string {
	var b strings.Builder
	switch {
	case r.Hard():
		b.WriteString("the recipient's mail server could not deliver it")
	case r.Action == "delayed" || strings.HasPrefix(r.Status, "4"):
		b.WriteString("delivery is delayed; the mail server is still trying")
	default:
		b.WriteString("the mail server reported " + r.Action)
	}
	if w := statusWords(r.Status); w != "" {
		b.WriteString(": " + w)
	}
	if r.Status != "" {
		b.WriteString(" (" + r.Status + ")")
	}
	if r.Diagnostic != "" {
		b.WriteString("; it answered: " + r.Diagnostic)
	}
	return b.String()
}

// statusWords says what the common enhanced status codes (RFC 3463) mean.
func statusWords(code string) string {
	f := strings.Split(code, ".")
	if len(f) != 3 {
		return ""
	}
	switch f[1] + "." + f[2] {
	case "1.1":
		return "the mailbox does not exist"
	case "1.2":
		return "the domain does not exist or takes no mail"
	case "1.0", "1.3":
		return "the address is not valid"
	case "1.6":
		return "the mailbox has moved"
	case "2.1":
		return "the mailbox is disabled"
	case "2.2":
		return "the mailbox is full"
	case "2.3", "3.4":
		return "the message is too big for the mailbox"
	case "4.1", "4.4":
		return "no mail server answered for the domain"
	case "4.7":
		return "delivery took too long and was given up"
	case "7.1":
		return "the mail server refused the message"
	}
	switch f[1] {
	case "2":
		return "a problem with the mailbox"
	case "4":
		return "a network or routing problem"
	case "7":
		return "refused by the mail server's policy"
	}
	return ""
}

// maxDSNRecipients bounds the per-recipient reports read from one notification.
const maxDSNRecipients = 100

// readDSN reads the delivery report of a multipart/report message; nil when the
// message has none.
func readDSN(env *enmime.Envelope) *DSN {
	if env.Root == nil || !strings.HasPrefix(strings.ToLower(env.Root.ContentType), "multipart/report") {
		return nil
	}
	var d *DSN
	var original []byte
	var walk func(p *enmime.Part, depth int)
	walk = func(p *enmime.Part, depth int) {
		for ; p != nil && depth < 8; p = p.NextSibling {
			switch strings.ToLower(p.ContentType) {
			case "message/delivery-status", "message/global-delivery-status":
				if d == nil {
					d = parseDeliveryStatus(p.Content)
				}
			case "message/rfc822", "text/rfc822-headers", "message/global", "message/global-headers":
				if original == nil {
					original = p.Content
				}
			}
			walk(p.FirstChild, depth+1)
		}
	}
	walk(env.Root.FirstChild, 0)
	if d == nil {
		return nil
	}
	if original != nil {
		h, _ := textproto.NewReader(bufio.NewReader(bytes.NewReader(original))).ReadMIMEHeader()
		if mm := msgIDRE.FindStringSubmatch(h.Get("Message-Id")); mm != nil {
			d.MessageID = mm[1]
		}
	}
	return d
}

// parseDeliveryStatus reads a message/delivery-status body: groups of header-like
// fields separated by blank lines, the first about the message, each next one about a
// recipient.
func parseDeliveryStatus(body []byte) *DSN {
	r := textproto.NewReader(bufio.NewReader(bytes.NewReader(append(bytes.TrimLeft(body, "\r\n"), "\r\n\r\n"...))))
	d := &DSN{}
	for i := 0; i < 2*maxDSNRecipients+2 && len(d.Recipients) < maxDSNRecipients; i++ {
		// Each call reads one group and the blank line after it (an extra blank
		// line reads as an empty group).
		h, err := r.ReadMIMEHeader()
		if len(h) > 0 {
			if addr := dsnAddress(h.Get("Final-Recipient")); addr != "" || h.Get("Action") != "" {
				if addr == "" {
					addr = dsnAddress(h.Get("Original-Recipient"))
				}
				d.Recipients = append(d.Recipients, DSNRecipient{
					Address:    addr,
					Action:     strings.ToLower(strings.TrimSpace(h.Get("Action"))),
					Status:     dsnStatus(h.Get("Status")),
					Diagnostic: dsnDiagnostic(h.Get("Diagnostic-Code")),
				})
			}
		}
		if err != nil {
			break
		}
	}
	if len(d.Recipients) == 0 {
		return nil
	}
	return d
}

// dsnAddress reads "rfc822; user@example.com" as the address.
func dsnAddress(v string) string {
	_, addr, ok := strings.Cut(v, ";")
	if !ok {
		addr = v
	}
	addr = strings.ToLower(strings.Trim(strings.TrimSpace(addr), "<>"))
	if !strings.Contains(addr, "@") || len(addr) > 320 {
		return ""
	}
	return clean(addr)
}

// dsnStatus keeps a status code's digits and dots ("5.1.1 (bad mailbox)" → 5.1.1).
func dsnStatus(v string) string {
	f := strings.Fields(v)
	if len(f) == 0 {
		return ""
	}
	s := f[0]
	for _, c := range s {
		if (c < '0' || c > '9') && c != '.' {
			return ""
		}
	}
	if len(s) > 16 {
		return ""
	}
	return s
}

// dsnDiagnostic reads "smtp; 550 5.1.1 <x@y>: Recipient address rejected" as the
// server's answer, on one line and bounded.
func dsnDiagnostic(v string) string {
	if t, rest, ok := strings.Cut(v, ";"); ok && !strings.ContainsAny(t, " <@") {
		v = rest
	}
	v = clean(strings.Join(strings.Fields(v), " "))
	if len(v) > 300 {
		cut := 300
		for cut > 0 && !utf8.RuneStart(v[cut]) {
			cut--
		}
		v = v[:cut] + "…"
	}
	return v
}
