package server

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5/pgxpool"

	"ccgtracker/internal/auth"
	"ccgtracker/internal/config"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/postgres/pgtest"
	"ccgtracker/internal/testkit"
)

// testApp is a running server on a fresh database with the demo users.
type testApp struct {
	t    *testing.T
	srv  *Server
	ts   *httptest.Server
	pool *pgxpool.Pool
	mu   sync.Mutex
	now  time.Time
	// delays records every throttling delay the server asked for.
	delays []time.Duration
}

// newTestApp starts the server; env overrides configuration variables.
func newTestApp(t *testing.T, env map[string]string, opts ...Option) *testApp {
	t.Helper()
	return newTestAppOn(t, pgtest.New(t), env, opts...)
}

// newTestAppOn is newTestApp on a pool the test opened (to size it, or to
// count its queries).
func newTestAppOn(t *testing.T, pool *pgxpool.Pool, env map[string]string, opts ...Option) *testApp {
	t.Helper()
	return newTestAppListening(t, pool, nil, env, opts...)
}

// newTestAppListening is newTestAppOn with the server's listener wrapped
// by listen (nil: as it is), to shape its sockets.
func newTestAppListening(t *testing.T, pool *pgxpool.Pool, listen func(net.Listener) net.Listener, env map[string]string, opts ...Option) *testApp {
	t.Helper()
	testkit.DemoUsers(t, pool)
	a := &testApp{t: t, pool: pool, now: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)}
	a.ts = httptest.NewUnstartedServer(nil)
	if env == nil {
		env = map[string]string{}
	}
	if _, ok := env["BASE_URL"]; !ok {
		env["BASE_URL"] = "http://" + a.ts.Listener.Addr().String()
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	opts = append([]Option{WithClock(a.clock)}, opts...)
	a.srv = New(cfg, pool, log, opts...)
	a.srv.sleep = func(_ context.Context, d time.Duration) {
		a.mu.Lock()
		defer a.mu.Unlock()
		a.delays = append(a.delays, d)
	}
	a.ts.Config.Handler = a.srv
	if listen != nil {
		a.ts.Listener = listen(a.ts.Listener)
	}
	a.ts.Start()
	t.Cleanup(a.ts.Close)
	return a
}

func (a *testApp) clock() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.now
}

// endNovember stands the clock on the morning of 1 December 2026 in
// London, when November's return can be sent (the clock otherwise stands
// on 24 November). The week's jump outlasts the idle timeout, so each
// client given signs in again.
func (a *testApp) endNovember(signedIn ...*client) {
	a.mu.Lock()
	a.now = novemberOver
	a.mu.Unlock()
	for _, c := range signedIn {
		c.signIn(c.email)
	}
}

// novemberOver is the first morning after November 2026, London time.
var novemberOver = time.Date(2026, 12, 1, 9, 0, 0, 0, dates.London)

func (a *testApp) advance(d time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.now = a.now.Add(d)
}

// client is a browser-like client: a cookie jar, no automatic redirects,
// and same-origin fetch metadata on every request, as a browser sends.
type client struct {
	t     *testing.T
	app   *testApp
	http  *http.Client
	email string // who signed in last
}

func (a *testApp) client() *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		a.t.Fatal(err)
	}
	return &client{t: a.t, app: a, http: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// do sends a request; form non-nil makes it a same-origin form POST.
func (c *client) do(method, path string, form url.Values, header ...string) *http.Response {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.app.ts.URL+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func (c *client) get(path string) *http.Response { return c.do(http.MethodGet, path, nil) }

func (c *client) post(path string, form url.Values) *http.Response {
	if form == nil {
		form = url.Values{}
	}
	return c.do(http.MethodPost, path, form)
}

// signIn signs in with the demo password and checks it worked.
func (c *client) signIn(email string) {
	c.t.Helper()
	resp := c.post("/login", url.Values{"email": {email}, "password": {auth.DemoPassword}})
	if resp.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("sign in as %s: status %d: %s", email, resp.StatusCode, text(c.t, resp))
	}
	c.email = email
}

// sessionCookie is the session token the jar holds.
func (c *client) sessionCookie() string {
	u, _ := url.Parse(c.app.ts.URL)
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == "session" {
			return ck.Value
		}
	}
	return ""
}

func doc(t *testing.T, resp *http.Response) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func text(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func wantStatus(t *testing.T, resp *http.Response, want int) {
	t.Helper()
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, want)
	}
}

func wantRedirect(t *testing.T, resp *http.Response, to string) {
	t.Helper()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != to {
		t.Fatalf("%s %s: %d to %q, want 303 to %q", resp.Request.Method, resp.Request.URL.Path,
			resp.StatusCode, resp.Header.Get("Location"), to)
	}
}
