package config

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	if err != nil {
		t.Fatalf("defaults should load: %v", err)
	}
	if c.Addr != ":8080" || c.SessionIdleTimeout != 30*time.Minute || c.SessionLifetime != 12*time.Hour {
		t.Errorf("unexpected defaults: %+v", c)
	}
	if c.Secure() {
		t.Error("the default http base URL must not be secure")
	}
	if err := c.RequireDatabase(); err == nil || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Errorf("RequireDatabase without DATABASE_URL = %v, want an error naming it", err)
	}
}

func TestLoadNamesEveryBadVariable(t *testing.T) {
	t.Parallel()
	_, err := Load(env(map[string]string{
		"ADDR":                 "8080",
		"BASE_URL":             "ftp://x",
		"LOG_LEVEL":            "loud",
		"SESSION_IDLE_TIMEOUT": "soon",
		"SHUTDOWN_TIMEOUT":     "-1s",
		"TRUST_PROXY_HEADERS":  "perhaps",
		"RUN_JOBS":             "maybe",
		"NIGHTLY_AT":           "1am",
		"SMTP_PORT":            "99999",
		"SMTP_FROM":            "nobody",
	}))
	if err == nil {
		t.Fatal("bad values loaded without error")
	}
	for _, name := range []string{"ADDR", "BASE_URL", "LOG_LEVEL", "SESSION_IDLE_TIMEOUT", "SHUTDOWN_TIMEOUT", "TRUST_PROXY_HEADERS", "RUN_JOBS", "NIGHTLY_AT", "SMTP_PORT", "SMTP_FROM"} {
		if !strings.Contains(err.Error(), name+":") {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
}

func TestLoadHTTPSIsSecure(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{"BASE_URL": "https://tracker.example.nhs.uk/"}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Secure() || c.BaseURL.String() != "https://tracker.example.nhs.uk" {
		t.Errorf("https base URL: secure=%v url=%s", c.Secure(), c.BaseURL)
	}
}

func TestIdleLongerThanLifetimeRefused(t *testing.T) {
	t.Parallel()
	_, err := Load(env(map[string]string{"SESSION_IDLE_TIMEOUT": "13h"}))
	if err == nil || !strings.Contains(err.Error(), "SESSION_IDLE_TIMEOUT") {
		t.Errorf("err = %v", err)
	}
}
