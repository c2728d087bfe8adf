package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"ccgtracker/internal/auth"
	"ccgtracker/internal/postgres/pgtest"
)

// SIGTERM while a download's client has stopped reading: the process
// still ends, within SHUTDOWN_TIMEOUT. Before, Shutdown gave up waiting
// for the download and closing the pool then waited for its connection
// without end, so the process had to be killed.
func TestSIGTERMWithAStalledDownloadStopsWithinTheTimeout(t *testing.T) {
	t.Parallel()
	_, dbURL := pgtest.NewWithURL(t)
	ctx := context.Background()
	seedEnv := envOf(map[string]string{"DATABASE_URL": dbURL})
	// Three times the national data: a month's CSV of some 6 MB, more
	// than the sockets' buffers take in.
	if err := run(ctx, []string{"seed", "--demo", "--national", "--scale", "3"}, seedEnv, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}

	const timeout = 2 * time.Second
	env := envOf(map[string]string{"DATABASE_URL": dbURL, "ADDR": "127.0.0.1:0", "SHUTDOWN_TIMEOUT": timeout.String(), "RUN_JOBS": "false"})
	serveCtx, stop := context.WithCancel(ctx)
	defer stop()
	stdoutR, stdoutW := io.Pipe()
	var logs syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(serveCtx, []string{"serve"}, env, stdoutW, &logs)
		_ = stdoutW.Close() // the pipe's reader sees EOF either way
	}()
	line, err := bufio.NewReader(stdoutR).ReadString('\n')
	if err != nil {
		t.Fatalf("no listening line: %v (logs: %s)", err, logs.String())
	}
	go io.Copy(io.Discard, stdoutR) //nolint:errcheck
	base := "http://" + strings.TrimSpace(strings.TrimPrefix(line, "CCG Order Tracker listening on "))

	// Sign in as finance, as a browser would.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest(http.MethodPost, base+"/login", strings.NewReader(url.Values{
		"email": {"finance@example.nhs.uk"}, "password": {auth.DemoPassword}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: status %d", resp.StatusCode)
	}
	u, _ := url.Parse(base)
	var cookie string
	for _, c := range jar.Cookies(u) {
		cookie = c.Name + "=" + c.Value
	}

	// Ask for last month's CSV on a connection with a tiny receive buffer,
	// read the start of the answer, then stop reading.
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	if err := conn.(*net.TCPConn).SetReadBuffer(4096); err != nil {
		t.Fatal(err)
	}
	month := time.Now().AddDate(0, -1, 0).Format("2006-01")
	if _, err := fmt.Fprintf(conn, "GET /reconciliation/%s.csv HTTP/1.1\r\nHost: %s\r\nCookie: %s\r\n\r\n", month, u.Host, cookie); err != nil {
		t.Fatal(err)
	}
	status, err := bufio.NewReaderSize(conn, 64).ReadString('\n')
	if err != nil || !strings.Contains(status, "200") {
		t.Fatalf("download: %q, %v", status, err)
	}

	stopped := time.Now()
	stop() // as SIGTERM does
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(timeout + 5*time.Second):
		t.Fatalf("serve did not stop within %s of SIGTERM with a stalled download (logs: %s)", timeout, logs.String())
	}
	// The download really was still running when the grace period ended.
	if !strings.Contains(logs.String(), "requests still running at the end of the grace period") {
		t.Errorf("the download was not stalled at shutdown, so this test proved nothing (logs: %s)", logs.String())
	}
	t.Logf("stopped %s after SIGTERM", time.Since(stopped).Round(10*time.Millisecond))
}
