package send

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"tandem/internal/delivery"
)

// relay submits mail to one SMTP server: smtp://[user:pass@]host[:587] (STARTTLS when
// the server offers it, required when credentials are given) or smtps://...[:465]
// (implicit TLS). Idle connections are kept for the next message.
type relay struct {
	addr, host   string
	implicitTLS  bool
	user, pass   string
	tls          *tls.Config
	localName    string
	idle         chan *smtp.Client
	dialer       net.Dialer
	cmdTimeout   time.Duration
	submitTimout time.Duration
	// plain: the relay offers no STARTTLS (found at the first connection).
	plain atomic.Bool
}

// parseRelay reads a --smtp-relay URL.
func parseRelay(raw string, tlsConfig *tls.Config, localName string, conns int) (*relay, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("smtp relay: not a valid URL") // url's error would repeat the password
	}
	r := &relay{host: u.Hostname(), localName: localName, idle: make(chan *smtp.Client, conns),
		cmdTimeout: 30 * time.Second, submitTimout: time.Minute}
	port := u.Port()
	switch u.Scheme {
	case "smtp":
		if port == "" {
			port = "587"
		}
	case "smtps":
		r.implicitTLS = true
		if port == "" {
			port = "465"
		}
	default:
		return nil, fmt.Errorf("smtp relay: scheme must be smtp:// or smtps://, not %q", u.Scheme)
	}
	if r.host == "" {
		return nil, errors.New("smtp relay: no host")
	}
	if u.User != nil {
		r.user = u.User.Username()
		r.pass, _ = u.User.Password()
	}
	r.addr = net.JoinHostPort(r.host, port)
	r.tls = tlsConfig
	if r.tls == nil {
		r.tls = &tls.Config{}
	}
	r.tls = r.tls.Clone()
	if r.tls.ServerName == "" {
		r.tls.ServerName = r.host
	}
	return r, nil
}

// String names the relay without its password.
func (r *relay) String() string {
	scheme := "smtp"
	if r.implicitTLS {
		scheme = "smtps"
	}
	if r.user != "" {
		return scheme + "://" + r.user + "@" + r.addr
	}
	return scheme + "://" + r.addr
}

func (r *relay) dial(ctx context.Context) (*smtp.Client, error) {
	conn, err := r.dialer.DialContext(ctx, "tcp", r.addr)
	if err != nil {
		return nil, err
	}
	// The context bounds the greeting and handshakes too: closing the connection ends a
	// relay that accepted the connection and then says nothing.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	var c *smtp.Client
	switch {
	case r.implicitTLS:
		c = smtp.NewClient(tls.Client(conn, r.tls))
		err = c.Hello(r.localName)
	case r.plain.Load():
		c = smtp.NewClient(conn)
		err = c.Hello(r.localName)
	default:
		// STARTTLS whenever the relay offers it; a relay that does not is remembered as
		// plain (a loopback MTA), unless a password would cross in clear.
		if c, err = smtp.NewClientStartTLS(conn, r.tls); err != nil && strings.Contains(err.Error(), "doesn't support STARTTLS") {
			if r.user != "" {
				err = errors.New("the relay does not offer STARTTLS; refusing to send the password in clear (use smtps://)")
			} else {
				conn.Close()
				r.plain.Store(true)
				return r.dial(ctx)
			}
		}
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	c.CommandTimeout, c.SubmissionTimeout = r.cmdTimeout, r.submitTimout
	if r.user != "" {
		if err := c.Auth(sasl.NewPlainClient("", r.user, r.pass)); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// send submits one message and classifies the outcome: delivered; 4xx answers and
// network errors are retried; 5xx answers are permanent.
func (r *relay) send(ctx context.Context, from, to string, msg []byte) delivery.Result {
	// A kept connection goes straight on with the next transaction (SMTP allows MAIL
	// after a completed DATA); if the relay closed it meanwhile, a new one is dialled.
	select {
	case c := <-r.idle:
		res, retry := r.submit(ctx, c, from, to, msg)
		if !retry {
			return res
		}
	default:
	}
	c, err := r.dial(ctx)
	if err != nil {
		// Refused before any message (greeting, TLS, credentials): the relay or its
		// configuration is at fault, not this mail; retried until fixed.
		res := classify(err)
		res.Outcome = delivery.Retry
		return res
	}
	res, _ := r.submit(ctx, c, from, to, msg)
	return res
}

// submit sends one message on c, then keeps c for the next one or closes it. stale
// reports a connection that failed before the relay answered anything about this
// message (worth one more try on a new connection).
func (r *relay) submit(ctx context.Context, c *smtp.Client, from, to string, msg []byte) (res delivery.Result, stale bool) {
	// The context bounds the whole exchange: closing the client ends a stuck read.
	stop := context.AfterFunc(ctx, func() { c.Close() })
	err := c.SendMail(from, []string{to}, bytes.NewReader(msg))
	if !stop() || err != nil {
		c.Close()
		if err == nil {
			err = ctx.Err()
		}
		var se *smtp.SMTPError
		return classify(err), ctx.Err() == nil && !errors.As(err, &se)
	}
	select {
	case r.idle <- c:
	default:
		_ = c.Quit()
	}
	return delivery.Result{Outcome: delivery.Delivered}, false
}

// close ends the idle connections.
func (r *relay) close() {
	for {
		select {
		case c := <-r.idle:
			_ = c.Quit()
		default:
			return
		}
	}
}

func classify(err error) delivery.Result {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		reason := fmt.Sprintf("the mail server answered %d %s", se.Code, strings.TrimSpace(se.Message))
		if se.Code >= 500 {
			return delivery.Result{Outcome: delivery.Fatal, Status: se.Code, Reason: reason}
		}
		return delivery.Result{Outcome: delivery.Retry, Status: se.Code, Reason: reason}
	}
	return delivery.Result{Outcome: delivery.Retry, Reason: "the mail server could not be reached: " + err.Error()}
}
