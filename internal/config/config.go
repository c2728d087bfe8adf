// Package config reads the environment into one validated Config, once, at
// start-up. Nothing else in the program reads the environment.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config is every setting of the tracker. It is passed down explicitly.
type Config struct {
	// DatabaseURL is the PostgreSQL connection string (DATABASE_URL).
	DatabaseURL string
	// DatabaseMaxConns is the size of the pool serving requests
	// (DATABASE_MAX_CONNS); a request holds at most one at a time.
	DatabaseMaxConns int
	// DatabaseAcquireTimeout bounds the wait for a free connection
	// (DATABASE_ACQUIRE_TIMEOUT); past it the request gets the 503 page.
	DatabaseAcquireTimeout time.Duration
	// JobsMaxConns is the size of the background jobs' own pool
	// (JOBS_MAX_CONNS), so jobs and pages never starve each other.
	JobsMaxConns int
	// Addr is the address serve listens on (ADDR).
	Addr string
	// BaseURL is the address people reach the service at (BASE_URL). When it
	// is https, cookies are Secure with a __Host- name and HSTS is sent.
	BaseURL *url.URL
	// LogLevel is the lowest level written to the log (LOG_LEVEL).
	LogLevel slog.Level
	// SessionIdleTimeout ends a session nobody has used for this long.
	SessionIdleTimeout time.Duration
	// SessionLifetime ends every session this long after sign-in.
	SessionLifetime time.Duration
	// ShutdownTimeout is how long in-flight requests get to finish on SIGTERM.
	ShutdownTimeout time.Duration
	// TrustProxyHeaders makes the client address come from X-Forwarded-For,
	// for deployments behind a load balancer that sets it.
	TrustProxyHeaders bool
	// RunJobs makes serve run the background jobs (RUN_JOBS).
	RunJobs bool
	// NightlyHour and NightlyMinute are the London time of the nightly job (NIGHTLY_AT).
	NightlyHour, NightlyMinute int
	// SMTP sends email when SMTPHost is set; otherwise messages stay in the outbox.
	SMTPHost, SMTPUsername, SMTPPassword, SMTPFrom string
	SMTPPort                                       int
}

// Var describes one environment variable, for the README and for errors.
type Var struct {
	Name, Default, Meaning string
}

// Vars lists every variable Load reads, with its default.
var Vars = []Var{
	{"DATABASE_URL", "", "PostgreSQL connection string. Required by every command that uses the database; `make run` starts a local cluster and sets it when unset."},
	{"DATABASE_MAX_CONNS", "16", "Connections each `serve` process opens for web requests (a request holds at most one at a time). With several instances, keep their sum plus the jobs' under PostgreSQL's `max_connections`."},
	{"DATABASE_ACQUIRE_TIMEOUT", "5s", "How long a request waits for a free connection before it gets the \"service busy\" page (503 with Retry-After)."},
	{"JOBS_MAX_CONNS", "5", "Connections of the background jobs' own pool (River and the nightly work), apart from the web requests'."},
	{"ADDR", ":8080", "Address the web server listens on."},
	{"BASE_URL", "http://localhost:8080", "Address people use to reach the service; an https address turns on Secure `__Host-` cookies and HSTS, and is the start of set-password links."},
	{"LOG_LEVEL", "info", "Lowest level logged: debug, info, warn or error."},
	{"SESSION_IDLE_TIMEOUT", "30m", "A session unused this long ends (a warning is shown 5 minutes before)."},
	{"SESSION_LIFETIME", "12h", "Every session ends this long after sign-in."},
	{"SHUTDOWN_TIMEOUT", "15s", "On SIGTERM or Ctrl-C, how long in-flight requests get to finish."},
	{"TRUST_PROXY_HEADERS", "false", "Take the client address from X-Forwarded-For (only behind a proxy that sets it)."},
	{"RUN_JOBS", "true", "Run the background jobs (the nightly job, sending email) in this serve process. Any number of instances may: River elects one to schedule."},
	{"NIGHTLY_AT", "01:00", "London time of the nightly job, as HH:MM."},
	{"SMTP_HOST", "", "SMTP server for the service's emails. Unset: they stay in the outbox, shown to admins at /admin/outbox and to each person on their account page."},
	{"SMTP_PORT", "587", "SMTP port (STARTTLS is used when the server offers it)."},
	{"SMTP_USERNAME", "", "SMTP user name, if the server needs one."},
	{"SMTP_PASSWORD", "", "SMTP password."},
	{"SMTP_FROM", "noreply@ccg-order-tracker.invalid", "Sender address of the service's emails."},
}

// Load builds a Config from getenv. Every bad value is reported, each naming
// its variable, so one start-up attempt shows everything to fix.
func Load(getenv func(string) string) (Config, error) {
	get := func(name string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		for _, v := range Vars {
			if v.Name == name {
				return v.Default
			}
		}
		return ""
	}
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
	}
	duration := func(name string) time.Duration {
		d, err := time.ParseDuration(get(name))
		if err != nil || d <= 0 {
			bad(name, "%q is not a positive duration such as 30m or 12h", get(name))
		}
		return d
	}

	c := Config{
		DatabaseURL:        get("DATABASE_URL"),
		Addr:               get("ADDR"),
		SessionIdleTimeout: duration("SESSION_IDLE_TIMEOUT"),
		SessionLifetime:    duration("SESSION_LIFETIME"),
		ShutdownTimeout:    duration("SHUTDOWN_TIMEOUT"),
	}
	count := func(name string, least int) int {
		n, err := strconv.Atoi(get(name))
		if err != nil || n < least || n > 1000 {
			bad(name, "%q is not a whole number from %d to 1000", get(name), least)
		}
		return n
	}
	c.DatabaseMaxConns = count("DATABASE_MAX_CONNS", 2)
	c.DatabaseAcquireTimeout = duration("DATABASE_ACQUIRE_TIMEOUT")
	c.JobsMaxConns = count("JOBS_MAX_CONNS", 3)
	if c.SessionIdleTimeout > c.SessionLifetime {
		bad("SESSION_IDLE_TIMEOUT", "must not be longer than SESSION_LIFETIME")
	}
	if !strings.Contains(c.Addr, ":") {
		bad("ADDR", "%q is not an address such as :8080 or 127.0.0.1:8080", c.Addr)
	}
	u, err := url.Parse(get("BASE_URL"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("BASE_URL", "%q is not an http or https address such as https://tracker.example.nhs.uk", get("BASE_URL"))
	} else {
		u.Path = strings.TrimSuffix(u.Path, "/")
		c.BaseURL = u
	}
	if err := c.LogLevel.UnmarshalText([]byte(get("LOG_LEVEL"))); err != nil {
		bad("LOG_LEVEL", "%q is not one of debug, info, warn, error", get("LOG_LEVEL"))
	}
	if c.TrustProxyHeaders, err = strconv.ParseBool(get("TRUST_PROXY_HEADERS")); err != nil {
		bad("TRUST_PROXY_HEADERS", "%q is not true or false", get("TRUST_PROXY_HEADERS"))
	}
	if c.RunJobs, err = strconv.ParseBool(get("RUN_JOBS")); err != nil {
		bad("RUN_JOBS", "%q is not true or false", get("RUN_JOBS"))
	}
	if t, err := time.Parse("15:04", get("NIGHTLY_AT")); err != nil {
		bad("NIGHTLY_AT", "%q is not a time of day such as 01:00", get("NIGHTLY_AT"))
	} else {
		c.NightlyHour, c.NightlyMinute = t.Hour(), t.Minute()
	}
	c.SMTPHost, c.SMTPUsername, c.SMTPPassword, c.SMTPFrom = get("SMTP_HOST"), get("SMTP_USERNAME"), get("SMTP_PASSWORD"), get("SMTP_FROM")
	if c.SMTPPort, err = strconv.Atoi(get("SMTP_PORT")); err != nil || c.SMTPPort < 1 || c.SMTPPort > 65535 {
		bad("SMTP_PORT", "%q is not a port number", get("SMTP_PORT"))
	}
	if _, err := mail.ParseAddress(c.SMTPFrom); err != nil {
		bad("SMTP_FROM", "%q is not an email address", c.SMTPFrom)
	}
	return c, errors.Join(errs...)
}

// RequireDatabase reports a clear error when DATABASE_URL is not set.
func (c Config) RequireDatabase() error {
	if c.DatabaseURL == "" {
		return errors.New("DATABASE_URL: not set; set it to a PostgreSQL connection string, or use `make run`, which starts a local database")
	}
	return nil
}

// Secure reports whether the service is reached over https.
func (c Config) Secure() bool { return c.BaseURL != nil && c.BaseURL.Scheme == "https" }
