package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"tandem/internal/account"
	"tandem/internal/mail/send"
	"tandem/internal/server"
	"tandem/internal/store"
)

// Config is everything Tandem can be configured with. It is built once per run from
// defaults, TANDEM_* environment variables and flags (in that order of precedence, flags
// last), validated, and passed down. Each subcommand registers only the flags it uses;
// the others keep their (valid) defaults.
type Config struct {
	// DataDir holds the SQLite database (tandem.db) when DB is empty.
	DataDir string
	// DB is a postgres:// URL; when set it is used instead of SQLite.
	DB string
	// Server is the HTTP server's configuration.
	Server server.Config
	// LogLevel is debug, info, warn or error.
	LogLevel string
	// LogFormat is text or json.
	LogFormat string
	// DefaultPlan is the plan of accounts created without one.
	DefaultPlan string
	// DKIMKey is --dkim-key (DOMAIN:SELECTOR:KEYFILE, comma-separated), read into
	// Server.DKIMKeys by validation.
	DKIMKey string
	// DebugAddr is --debug-addr: the loopback address of the profiling listener
	// (debug.go); empty = none.
	DebugAddr string
}

// defaultConfig returns the configuration used when nothing is set.
func defaultConfig() Config {
	return Config{
		DataDir:     "./data",
		Server:      server.DefaultConfig(),
		LogLevel:    "info",
		LogFormat:   "text",
		DefaultPlan: string(account.Enterprise),
	}
}

var hostnameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$`)

// Validate checks every field and normalises a few; errors name the flag at fault.
func (c *Config) Validate() error {
	var problems []string
	bad := func(flag, value, why string) {
		problems = append(problems, fmt.Sprintf("--%s %q: %s (env %s)", flag, value, why, envName(flag)))
	}

	if c.DB != "" {
		if !strings.HasPrefix(c.DB, "postgres://") && !strings.HasPrefix(c.DB, "postgresql://") {
			bad("db", redactURL(c.DB), "must be a postgres:// URL; leave it empty to use SQLite in --data-dir")
		} else if _, err := url.Parse(c.DB); err != nil {
			bad("db", redactURL(c.DB), "is not a valid URL")
		}
	} else if strings.TrimSpace(c.DataDir) == "" {
		bad("data-dir", c.DataDir, "must name a directory (or set --db to use PostgreSQL)")
	}

	if c.DebugAddr != "" {
		if err := checkDebugAddr(c.DebugAddr); err != nil {
			bad("debug-addr", c.DebugAddr, err.Error())
		}
	}

	s := &c.Server
	if s.FilesDir == "" && s.BlobStore == "" && strings.TrimSpace(c.DataDir) != "" {
		s.FilesDir = filepath.Join(c.DataDir, "files") // attachments, on disk by default
	}
	if s.SecretKeyFile == "" && c.DB == "" && strings.TrimSpace(c.DataDir) != "" {
		s.SecretKeyFile = filepath.Join(c.DataDir, "secret.key") // one process owns an SQLite file
	}
	if s.Files.MaxFileSize <= 0 || s.Files.AccountQuota <= 0 || s.Files.UploadTTL <= 0 {
		bad("max-file-size", strconv.FormatInt(s.Files.MaxFileSize, 10), "--max-file-size, --account-file-quota and --upload-ttl must be positive")
	}
	if host, port, err := net.SplitHostPort(s.Addr); err != nil {
		bad("addr", s.Addr, "must be host:port or :port, e.g. :8080 or 127.0.0.1:8080")
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		bad("addr", s.Addr, "port must be a number from 0 to 65535")
	} else if strings.ContainsAny(host, "/ ") {
		bad("addr", s.Addr, "host must be an IP address or a name")
	}
	s.BaseDomain = strings.ToLower(strings.Trim(strings.TrimSpace(s.BaseDomain), "."))
	if !hostnameRE.MatchString(s.BaseDomain) {
		bad("base-domain", s.BaseDomain, "must be a DNS name without scheme or port, e.g. localhost or desk.example.com")
	}
	s.MailDomain = strings.ToLower(strings.Trim(strings.TrimSpace(s.MailDomain), "."))
	if s.MailDomain != "" && !hostnameRE.MatchString(s.MailDomain) {
		bad("mail-domain", s.MailDomain, "must be a DNS name, e.g. desk.example.com")
	}
	if s.SMTPRelay != "" {
		if u, err := url.Parse(s.SMTPRelay); err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
			bad("smtp-relay", redactURL(s.SMTPRelay), "must be smtp://[user:pass@]host[:port] or smtps://[user:pass@]host[:port]")
		}
	}
	if s.DefaultAccount != "" && !account.ValidSubdomain(s.DefaultAccount) {
		bad("default-account", s.DefaultAccount, "must be an account's subdomain: 2-63 lowercase letters, digits or hyphens")
	}
	if s.MaxBody <= 0 {
		bad("max-body", strconv.FormatInt(s.MaxBody, 10), "must be a positive number of bytes")
	}
	if s.RateLimit < -1 {
		bad("rate-limit", strconv.Itoa(s.RateLimit), "must be 0 (plan defaults), -1 (off) or a number of requests per minute")
	}
	if s.ExportRateLimit < -1 {
		bad("export-rate-limit", strconv.Itoa(s.ExportRateLimit), "must be 0 (Zendesk's 10), -1 (off) or a number of requests per minute")
	}
	if s.PublicURL != "" {
		// {subdomain} stands for each account's; check the URL as an account would have it.
		u, err := url.Parse(strings.ReplaceAll(s.PublicURL, "{subdomain}", "acme"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("public-url", s.PublicURL, "must be an absolute http:// or https:// URL")
		} else {
			s.PublicURL = strings.TrimRight(s.PublicURL, "/")
		}
	}

	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("log-level", c.LogLevel, "must be debug, info, warn or error")
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		bad("log-format", c.LogFormat, "must be text or json")
	}
	if !account.Plan(c.DefaultPlan).Valid() {
		bad("default-plan", c.DefaultPlan, "must be team, growth, professional or enterprise")
	}

	for _, a := range []struct{ flag, v string }{{"smtp-addr", s.SMTPAddr}, {"lmtp-addr", s.LMTPAddr}} {
		if a.v == "" {
			continue
		}
		if _, port, err := net.SplitHostPort(a.v); err != nil {
			bad(a.flag, a.v, "must be host:port or :port, e.g. 127.0.0.1:2525")
		} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			bad(a.flag, a.v, "port must be a number from 0 to 65535")
		}
	}
	if s.MailMaxSize < 0 {
		bad("mail-max-size", strconv.FormatInt(s.MailMaxSize, 10), "must be a positive number of bytes")
	}
	if s.MailSenderRate < 0 {
		bad("mail-sender-rate", strconv.Itoa(s.MailSenderRate), "must be a positive number of messages per hour")
	}
	if s.MailWorkers < 0 {
		bad("mail-workers", strconv.Itoa(s.MailWorkers), "must be a positive number")
	}
	if s.MailBacklog < -1 {
		bad("mail-backlog", strconv.Itoa(s.MailBacklog), "must be a positive number of messages, or -1 (never hold)")
	}
	if s.MailAttachMax < 0 {
		bad("mail-attach-max", strconv.FormatInt(s.MailAttachMax, 10), "must be a positive number of bytes")
	}
	if c.DKIMKey != "" {
		keys, err := send.ParseDKIMKeys(c.DKIMKey)
		if err != nil {
			bad("dkim-key", c.DKIMKey, err.Error())
		}
		s.DKIMKeys = keys
	}
	if s.MailSpoolDir == "" && c.DataDir != "" {
		// Large inbound messages and attachments live beside the database.
		s.MailSpoolDir = filepath.Join(c.DataDir, "mail")
	}

	if len(problems) > 0 {
		return usageError{errors.New("invalid configuration:\n  " + strings.Join(problems, "\n  "))}
	}
	if err := s.Validate(); err != nil {
		return usageError{fmt.Errorf("invalid configuration: %w", err)}
	}
	return nil
}

// StoreOptions returns how to open the configured database.
func (c *Config) StoreOptions() store.Options {
	if c.DB != "" {
		return store.Options{URL: c.DB}
	}
	return store.Options{Path: filepath.Join(c.DataDir, "tandem.db")}
}

// DatabaseName describes the configured database for people (never with a password).
func (c *Config) DatabaseName() string {
	if c.DB != "" {
		return "PostgreSQL " + redactURL(c.DB)
	}
	return "SQLite " + filepath.Join(c.DataDir, "tandem.db")
}

// openDB opens the configured database and applies pending migrations.
func openDB(ctx context.Context, cfg *Config) (*store.DB, error) {
	db, err := store.Open(ctx, cfg.StoreOptions())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", cfg.DatabaseName(), err)
	}
	return db, nil
}

// redactURL hides the password of a database URL.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}

// newLogger returns the configured structured logger.
func newLogger(cfg *Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// usageError is a mistake in how tandem was invoked (exit status 2).
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }
