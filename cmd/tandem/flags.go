package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"tandem/internal/clientaddr"
)

// command is one subcommand's flag set, with the metadata its --help prints: every flag
// with its placeholder, meaning, environment variable and default.
type command struct {
	name    string // "serve", "account create"
	args    string // what follows the name in the synopsis
	about   string
	fs      *flag.FlagSet
	order   []string          // flag names in registration order (the --help order)
	meta    map[string]string // flag name -> value placeholder ("" for booleans)
	example string
}

func newCommand(name, args, about string) *command {
	fs := flag.NewFlagSet("tandem "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned, usage is printed by us
	return &command{name: name, args: args, about: about, fs: fs, meta: map[string]string{}}
}

// envName is the environment variable of a flag: --base-domain -> TANDEM_BASE_DOMAIN.
func envName(flagName string) string {
	return "TANDEM_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func (c *command) add(name, placeholder string) {
	c.order = append(c.order, name)
	c.meta[name] = placeholder
}

// stringFlag registers a string flag whose default is *p.
func (c *command) stringFlag(p *string, name, placeholder, help string) {
	c.fs.StringVar(p, name, *p, help)
	c.add(name, placeholder)
}

// intFlag registers an integer flag whose default is *p.
func (c *command) intFlag(p *int, name, placeholder, help string) {
	c.fs.Var(intValue[int]{p}, name, help)
	c.add(name, placeholder)
}

// int64Flag registers a 64-bit integer flag whose default is *p.
func (c *command) int64Flag(p *int64, name, placeholder, help string) {
	c.fs.Var(intValue[int64]{p}, name, help)
	c.add(name, placeholder)
}

// durationFlag registers a duration flag whose default is *p.
func (c *command) durationFlag(p *time.Duration, name, placeholder, help string) {
	c.fs.DurationVar(p, name, *p, help)
	c.add(name, placeholder)
}

// boolFlag registers a boolean flag (default false); --name alone sets it.
func (c *command) boolFlag(p *bool, name, help string) {
	c.fs.Var(boolValue{p}, name, help)
	c.add(name, "")
}

// dataFlags registers the flags of every subcommand that touches data.
func (c *command) dataFlags(cfg *Config) {
	c.stringFlag(&cfg.DataDir, "data-dir", "DIR", "directory of the embedded SQLite database (tandem.db inside)")
	c.stringFlag(&cfg.DB, "db", "URL", "PostgreSQL URL (postgres://user:pass@host:5432/db); when set, used instead of SQLite")
}

// serverFlags registers the HTTP server's flags.
func (c *command) serverFlags(cfg *Config) {
	s := &cfg.Server
	c.stringFlag(&s.Addr, "addr", "HOST:PORT", "address to listen on")
	c.stringFlag(&s.BaseDomain, "base-domain", "DOMAIN", "accounts are served at {subdomain}.DOMAIN")
	c.stringFlag(&s.MailDomain, "mail-domain", "DOMAIN", "each account's default support address is support@{subdomain}.DOMAIN; empty = the base domain")
	// Outgoing mail (internal/mail/send).
	c.stringFlag(&s.SMTPRelay, "smtp-relay", "URL", "SMTP relay for outgoing mail: smtp://user:pass@host:587 (STARTTLS) or smtps://user:pass@host:465; empty = keep mail on the admin's Outgoing mail page")
	c.stringFlag(&s.DefaultAccount, "default-account", "SUBDOMAIN", "account serving requests whose host names no account (single-company installs); empty = 404")
	c.int64Flag(&s.MaxBody, "max-body", "BYTES", "largest request body accepted")
	c.intFlag(&s.RateLimit, "rate-limit", "N", "API requests per minute per account: 0 = the plan's default, -1 = off")
	c.intFlag(&s.ExportRateLimit, "export-rate-limit", "N", "incremental export requests per minute per account: 0 = Zendesk's 10, -1 = off")
	c.durationFlag(&s.ExportLag, "export-lag", "DURATION", "incremental exports leave out what changed within this long of a request: 0 = Zendesk's minute, negative = nothing")
	c.boolFlag(&s.AllowPrivatePartners, "allow-private-partners", "let ticket sharing and webhooks call partner desks and endpoints on loopback and private addresses")
	c.stringFlag(&s.PublicURL, "public-url", "URL", "this server's external base URL for partner callbacks ({subdomain} is replaced by the account's); empty = derived from each request's host")
	c.durationFlag(&s.SharingMaxBackoff, "sharing-max-backoff", "DURATION", "longest wait between retries of a delivery to a partner that is down")
	// Automations (issue 18).
	c.durationFlag(&s.AutomationInterval, "automation-interval", "DURATION", "how often automations run (one pass per interval across every process on the database; at least 1m)")
	c.fs.Var(prefixesValue{&s.TrustedProxies}, "trusted-proxies", "load balancers and proxies (comma-separated CIDRs or addresses) whose X-Forwarded-For names the client; empty = trust none")
	c.add("trusted-proxies", "CIDRS")
	// Inbound mail (internal/mailin).
	c.stringFlag(&s.SMTPAddr, "smtp-addr", "HOST:PORT", "address of the inbound SMTP listener, for mail to the support addresses (an MTA relays to it, or it is the MX); empty = none")
	c.stringFlag(&s.LMTPAddr, "lmtp-addr", "HOST:PORT", "address of the inbound LMTP listener (for an MTA delivering by LMTP); empty = none")
	c.int64Flag(&s.MailMaxSize, "mail-max-size", "BYTES", "largest inbound message accepted (larger ones are refused with 552)")
	c.stringFlag(&s.MailAuthServID, "mail-authserv-id", "ID", "authserv-id of the relay whose Authentication-Results headers are trusted (mail failing DMARC, or DKIM and SPF, is suspended); empty = trust none")
	c.intFlag(&s.MailSenderRate, "mail-sender-rate", "N", "inbound messages one sender may send an account per hour before the rest are suspended")
	c.intFlag(&s.MailWorkers, "mail-workers", "N", "inbound messages turned into tickets at once (messages of one thread are always taken one at a time, in order)")
	c.intFlag(&s.MailBacklog, "mail-backlog", "N", "inbound messages stored and not yet turned into tickets above which the listener holds each 250 (the message already stored) until the backlog is back to N, at most 10s; -1 = never hold")
	c.durationFlag(&s.IMAPInterval, "imap-interval", "DURATION", "how often the IMAP mailboxes admins added (/api/v2/imap_mailboxes) are polled")
	// Attachments (internal/files).
	c.stringFlag(&s.BlobStore, "blob-store", "URL", "where attachments are kept: empty = {data-dir}/files on disk; s3://BUCKET?endpoint=https://HOST[&region=R] = an S3-compatible store (credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
	c.stringFlag(&s.Clamd, "clamd", "URL", "scan every upload with ClamAV's clamd at unix:///run/clamav/clamd.ctl or tcp://HOST:PORT; empty = not scanned")
	c.int64Flag(&s.Files.MaxFileSize, "max-file-size", "BYTES", "largest attachment accepted")
	c.int64Flag(&s.Files.AccountQuota, "account-file-quota", "BYTES", "most bytes of attachments one account may hold")
	c.durationFlag(&s.Files.UploadTTL, "upload-ttl", "DURATION", "how long an upload not attached to a comment is kept")
	// Secrets kept in the database (an account's model server API key, internal/secretbox).
	c.stringFlag(&s.SecretKeyFile, "secret-key-file", "FILE", "file holding the key that encrypts secrets kept in the database (created with a random key if missing; every process on one PostgreSQL needs the same); empty = {data-dir}/secret.key with SQLite, none with PostgreSQL")
	// Mail files and signing (internal/mail/send).
	c.int64Flag(&s.MailAttachMax, "mail-attach-max", "BYTES", "largest total of files attached to one outgoing mail; the comment's other files are sent as signed links valid 30 days")
	c.stringFlag(&cfg.DKIMKey, "dkim-key", "DOMAIN:SELECTOR:KEYFILE", "sign outgoing mail with DKIM: the PEM private key (RSA or Ed25519) for DOMAIN, used for mail from DOMAIN and its subdomains (comma-separate several); an account's own key (Admin > Email) signs its mail instead; empty = unsigned")
	c.boolFlag(&s.MailNoVERP, "mail-no-verp", "send outgoing mail with the From address as envelope sender instead of a per-message bounces+TOKEN@ address (for a relay that rewrites the envelope sender); bounces are then matched by Message-ID")
}

// logFlags registers the logging flags.
func (c *command) logFlags(cfg *Config) {
	c.stringFlag(&cfg.LogLevel, "log-level", "LEVEL", "debug, info, warn or error")
	c.stringFlag(&cfg.LogFormat, "log-format", "FORMAT", "text or json")
}

// parse reads args, then fills every flag not given on the command line from its
// environment variable. It reports help=true (after printing the usage to stdout) when
// --help was asked for.
func (c *command) parse(args []string, getenv func(string) string, stdout io.Writer) (help bool, err error) {
	if err := c.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.usage(stdout)
			return true, nil
		}
		return false, usageError{fmt.Errorf("%s: %w (run 'tandem %s --help' for usage)", c.name, err, c.name)}
	}
	if c.fs.NArg() > 0 {
		return false, usageError{fmt.Errorf("%s: unexpected argument %q (run 'tandem %s --help' for usage)", c.name, c.fs.Arg(0), c.name)}
	}
	given := map[string]bool{}
	c.fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, name := range c.order {
		if given[name] {
			continue
		}
		env := envName(name)
		v := getenv(env)
		if v == "" {
			continue
		}
		if err := c.fs.Lookup(name).Value.Set(v); err != nil {
			return false, usageError{fmt.Errorf("%s: invalid value %q in %s: %v", c.name, v, env, err)}
		}
	}
	return false, nil
}

// usage prints the command's help: synopsis, description and every flag.
func (c *command) usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: tandem %s %s\n\n%s\n", c.name, c.args, c.about)
	if len(c.order) > 0 {
		fmt.Fprintf(w, "\nFlags (each can also be set by the environment variable shown; a flag wins):\n")
		width := 0
		heads := make([]string, len(c.order))
		for i, name := range c.order {
			heads[i] = "--" + name
			if m := c.meta[name]; m != "" {
				heads[i] += " " + m
			}
			width = max(width, len(heads[i]))
		}
		for i, name := range c.order {
			f := c.fs.Lookup(name)
			def := f.DefValue
			switch f.Value.(type) {
			case boolValue, intValue[int], intValue[int64]:
			default:
				def = strconv.Quote(def)
			}
			fmt.Fprintf(w, "  %-*s  %s\n", width, heads[i], f.Usage)
			fmt.Fprintf(w, "  %-*s  [%s, default %s]\n", width, "", envName(name), def)
		}
	}
	if c.example != "" {
		fmt.Fprintf(w, "\nExample:\n%s\n", c.example)
	}
}

// intValue is an integer flag with a plain-spoken parse error.
type intValue[T int | int64] struct{ p *T }

func (v intValue[T]) String() string {
	if v.p == nil {
		return "0"
	}
	return strconv.FormatInt(int64(*v.p), 10)
}

func (v intValue[T]) Set(s string) error {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || int64(T(n)) != n {
		return errors.New("must be a whole number")
	}
	*v.p = T(n)
	return nil
}

// boolValue is a boolean flag with a plain-spoken parse error.
type boolValue struct{ p *bool }

func (v boolValue) String() string {
	if v.p == nil {
		return "false"
	}
	return strconv.FormatBool(*v.p)
}

func (v boolValue) Set(s string) error {
	b, err := strconv.ParseBool(strings.TrimSpace(s))
	if err != nil {
		return errors.New("must be true or false")
	}
	*v.p = b
	return nil
}

// IsBoolFlag lets --flag be given without a value.
func (v boolValue) IsBoolFlag() bool { return true }

// prefixesValue is a comma-separated list of CIDRs or addresses.
type prefixesValue struct{ p *[]netip.Prefix }

func (v prefixesValue) String() string {
	if v.p == nil {
		return ""
	}
	parts := make([]string, len(*v.p))
	for i, p := range *v.p {
		parts[i] = p.String()
	}
	return strings.Join(parts, ",")
}

func (v prefixesValue) Set(s string) error {
	ps, err := clientaddr.ParsePrefixes(s)
	if err != nil {
		return err
	}
	*v.p = ps
	return nil
}
