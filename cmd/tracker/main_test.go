package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ccgtracker/internal/postgres/pgtest"
	"ccgtracker/migrations"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestBadConfigurationNamesTheVariable(t *testing.T) {
	t.Parallel()
	err := run(context.Background(), []string{"serve"}, envOf(map[string]string{"SESSION_LIFETIME": "forever"}), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "SESSION_LIFETIME") {
		t.Errorf("err = %v, want one naming SESSION_LIFETIME", err)
	}
	err = run(context.Background(), []string{"serve"}, envOf(nil), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Errorf("err = %v, want one naming DATABASE_URL", err)
	}
	err = run(context.Background(), []string{"launch"}, envOf(nil), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `unknown command "launch"`) {
		t.Errorf("err = %v", err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, envOf(nil), &out, io.Discard); err != nil || out.Len() == 0 {
		t.Errorf("version: %v %q", err, out.String())
	}
}

func TestServeRefusesASchemaBehindTheCode(t *testing.T) {
	t.Parallel()
	_, url := pgtest.NewWithURL(t)
	env := envOf(map[string]string{"DATABASE_URL": url, "ADDR": "127.0.0.1:0"})
	ctx := context.Background()

	var out bytes.Buffer
	if err := run(ctx, []string{"migrate", "down", "1"}, env, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	err := run(ctx, []string{"serve"}, env, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "run `tracker migrate up`") {
		t.Fatalf("serve on an old schema: %v, want a refusal naming the fix", err)
	}
	if err := run(ctx, []string{"migrate", "up"}, env, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	latest, err := migrations.Latest()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), fmt.Sprintf("schema at version %d (dirty: false)", latest)) {
		t.Errorf("migrate output: %q", out.String())
	}
	if err := run(ctx, []string{"migrate", "down", "none"}, env, io.Discard, io.Discard); err == nil {
		t.Error("migrate down none: no error")
	}
}

func TestSeedIsIdempotentFromTheCommandLine(t *testing.T) {
	t.Parallel()
	_, url := pgtest.NewWithURL(t)
	env := envOf(map[string]string{"DATABASE_URL": url})
	for i, want := range []string{"demo users added: 5\ndemo continuity services added: 6151\ndemo returns issued: 212", "demo users added: 0\ndemo continuity services added: 0\ndemo returns issued: 0"} {
		var out bytes.Buffer
		if err := run(context.Background(), []string{"seed", "--demo"}, env, &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), want) || !strings.Contains(out.String(), "practices 0") {
			t.Errorf("seed run %d: %q, want %q and no practices added (the template is seeded)", i+1, out.String(), want)
		}
	}
}

// With the national data the demo adds its sign-ins and returns but not
// its continuity services, which would bring back the national cessations.
func TestSeedNationalWithDemoIssuesReturns(t *testing.T) {
	t.Parallel()
	_, url := pgtest.NewWithURL(t)
	env := envOf(map[string]string{"DATABASE_URL": url})
	var out bytes.Buffer
	if err := run(context.Background(), []string{"seed", "--national", "--demo"}, env, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"national service instances added (×1): 8227", "demo users added: 5", "demo returns issued: 212"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("seed --national --demo: %q, want %q", out.String(), want)
		}
	}
	if strings.Contains(out.String(), "demo continuity services") {
		t.Errorf("seed --national --demo added the demo's continuity services: %q", out.String())
	}
}

// serve listens on the address, answers, and stops cleanly when its
// context ends (as on SIGTERM), logging JSON lines.
func TestServeStartsAndShutsDownGracefully(t *testing.T) {
	t.Parallel()
	_, url := pgtest.NewWithURL(t)
	env := envOf(map[string]string{"DATABASE_URL": url, "ADDR": "127.0.0.1:0", "SHUTDOWN_TIMEOUT": "5s", "RUN_JOBS": "true"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	stdoutR, stdoutW := io.Pipe()
	var logs syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve"}, env, stdoutW, &logs)
		_ = stdoutW.Close() // the pipe's reader sees EOF either way
	}()

	line, err := bufio.NewReader(stdoutR).ReadString('\n')
	if err != nil {
		t.Fatalf("no listening line: %v (logs: %s)", err, logs.String())
	}
	go io.Copy(io.Discard, stdoutR) //nolint:errcheck
	addr := strings.TrimSpace(strings.TrimPrefix(line, "CCG Order Tracker listening on "))
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d", path, resp.StatusCode)
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v on shutdown", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Error("still answering after shutdown")
	}
	if !strings.Contains(logs.String(), `"msg":"stopped"`) || !strings.Contains(logs.String(), `"request_id"`) {
		t.Errorf("logs lack the JSON lines expected:\n%s", logs.String())
	}
}

func TestReturnsIssueIsIdempotent(t *testing.T) {
	t.Parallel()
	_, url := pgtest.NewWithURL(t)
	env := envOf(map[string]string{"DATABASE_URL": url})
	for i, want := range []string{"returns issued for November 2026: 106", "returns issued for November 2026: 0"} {
		var out bytes.Buffer
		if err := run(context.Background(), []string{"returns", "issue", "2026-11"}, env, &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(out.String()) != want {
			t.Errorf("run %d: %q, want %q", i+1, out.String(), want)
		}
	}
	if err := run(context.Background(), []string{"returns", "issue", "November"}, env, io.Discard, io.Discard); err == nil {
		t.Error("a month that is not YYYY-MM was accepted")
	}
}

func TestNightlyFromTheCommandLine(t *testing.T) {
	t.Parallel()
	_, url := pgtest.NewWithURL(t)
	env := envOf(map[string]string{"DATABASE_URL": url})
	var out bytes.Buffer
	if err := run(context.Background(), []string{"nightly", "--date", "2026-11-01"}, env, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "nightly run for 1 November 2026: 106 returns issued") {
		t.Errorf("output %q", out.String())
	}
	if err := run(context.Background(), []string{"nightly", "--date", "1/11/2026"}, env, io.Discard, io.Discard); err == nil {
		t.Error("a date not in YYYY-MM-DD was accepted")
	}
}

// tracker import list-sizes reads the national file as published: the
// seeded practices' sizes are unchanged, the practices the tracker does not
// know are counted, and a malformed file is refused naming its row.
func TestImportListSizesFromTheCommandLine(t *testing.T) {
	t.Parallel()
	_, url := pgtest.NewWithURL(t)
	env := envOf(map[string]string{"DATABASE_URL": url})
	file := filepath.Join("..", "..", "internal", "refdata", "data", "gp-reg-pat-prac-all.csv")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"import", "list-sizes", file}, env, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"List sizes of 1 January 2021: 6,658 rows read", "new:                0", "changed:            0",
		"unchanged:          6,523", "unknown practices:  135"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, out.String())
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.csv")
	if err := os.WriteFile(bad, []byte("PUBLICATION,EXTRACT_DATE,TYPE,CCG_CODE,ONS_CCG_CODE,CODE,POSTCODE,SEX,AGE,NUMBER_OF_PATIENTS\n"+
		"GP_PRAC_PAT_LIST,01JAN2021,GP,16C,E38000247,A81001,TS18 1HU,ALL,ALL,-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := run(context.Background(), []string{"import", "list-sizes", bad}, env, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "line 2, column 10 (NUMBER_OF_PATIENTS): -1 is negative") {
		t.Errorf("a negative size: %v", err)
	}
}
