package server

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"ccgtracker/internal/auth"
)

// Every role against every route of the table, as chi registered it: a
// role the route does not admit is refused (403, or sent to sign in when
// nobody is signed in), a role it admits is served.
func TestEveryRouteAdmitsOnlyItsRoles(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, nil)
	ctx := context.Background()

	// A user for the admin routes to act on, so no demo user is changed.
	var targetID string
	if err := app.pool.QueryRow(ctx, `INSERT INTO users (email, name, role) VALUES ('target@example.nhs.uk', 'Target', 'finance') RETURNING id::text`).Scan(&targetID); err != nil {
		t.Fatal(err)
	}
	params := map[string]string{
		"{code}":      "16C",
		"{id}":        targetID,
		"{token}":     "not-a-real-token",
		"{callOffID}": "C010001-01",
		"{itemID}":    "1",
	}
	concrete := func(method, pattern string) string {
		p := pattern
		switch {
		case strings.HasPrefix(p, "/catalogue/"):
			p = "/catalogue/10000-001"
		case strings.HasPrefix(p, "/practices/"):
			p = "/practices/A81001"
		case p == "/static/*":
			p = "/static/app.css"
		case p == "/assets/*":
			p = "/assets/images/favicon.svg"
		}
		for k, v := range params {
			p = strings.ReplaceAll(p, k, v)
		}
		return p
	}

	table := map[string]access{}
	for _, rt := range app.srv.routes() {
		table[rt.method+" "+rt.pattern] = rt.access
	}

	type principal struct {
		name  string
		email string // "" for nobody signed in
		role  auth.Role
	}
	principals := []principal{
		{"nobody", "", ""},
		{"buyer", "buyer.16c@example.nhs.uk", auth.Buyer},
		{"reviewer", "reviewer@example.nhs.uk", auth.Reviewer},
		{"finance", "finance@example.nhs.uk", auth.Finance},
		{"admin", "admin@example.nhs.uk", auth.Admin},
	}

	var walked int
	err := chi.Walk(app.srv.mux, func(method, pattern string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if method == http.MethodHead {
			return nil // served by the GET line of the table
		}
		walked++
		a, ok := table[method+" "+pattern]
		if !ok {
			t.Errorf("%s %s is routed but not in the route table", method, pattern)
			return nil
		}
		if !a.public && len(a.roles) == 0 {
			t.Errorf("%s %s admits nobody: a route must state its roles", method, pattern)
		}
		if strings.HasPrefix(pattern, "/admin") && (a.public || len(a.roles) != 1 || a.roles[0] != auth.Admin) {
			t.Errorf("%s %s is an admin page but admits %v", method, pattern, a.roles)
		}
		for _, p := range principals {
			c := app.client()
			var user *auth.User
			if p.email != "" {
				c.signIn(p.email)
				user = &auth.User{Role: p.role}
			}
			path := concrete(method, pattern)
			var resp *http.Response
			if method == http.MethodPost {
				resp = c.post(path, url.Values{})
			} else {
				resp = c.do(method, path, nil)
			}
			loc := resp.Header.Get("Location")
			refused := resp.StatusCode == http.StatusForbidden || strings.HasPrefix(loc, "/login?next=")
			if a.allows(user) && refused {
				t.Errorf("%s %s as %s: refused (%d %s), but the route admits %s", method, path, p.name, resp.StatusCode, loc, p.name)
			}
			if !a.allows(user) && !refused {
				t.Errorf("%s %s as %s: served (%d), but the route does not admit %s", method, path, p.name, resp.StatusCode, p.name)
			}
			if !a.allows(user) && user == nil && method == http.MethodGet && !strings.HasPrefix(loc, "/login?next=") {
				t.Errorf("GET %s as nobody: %d, want a redirect to sign in", path, resp.StatusCode)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if walked != len(table) {
		t.Errorf("walked %d routes, the table has %d", walked, len(table))
	}
}

func TestAccessWithNoRolesAdmitsNobody(t *testing.T) {
	t.Parallel()
	var unstated access
	for _, u := range []*auth.User{nil, {Role: auth.Buyer}, {Role: auth.Reviewer}, {Role: auth.Finance}, {Role: auth.Admin}} {
		if unstated.allows(u) {
			t.Errorf("the zero access admits %v", u)
		}
	}
	s := &Server{}
	called := false
	h := s.authorize(unstated, func(http.ResponseWriter, *http.Request) error { called = true; return nil })
	req, _ := http.NewRequest(http.MethodGet, "/x", nil)
	if err := h(nil, req); err != errForbidden || called {
		t.Errorf("authorize(zero access) = %v, handler called %v; want errForbidden and no call", err, called)
	}
}

func TestBuyerSeesOnlyTheirOwnCCG(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, nil)
	ctx := context.Background()
	var otherPractice string
	if err := app.pool.QueryRow(ctx, `SELECT code FROM practices WHERE ccg_code = '03Q' ORDER BY code LIMIT 1`).Scan(&otherPractice); err != nil {
		t.Fatal(err)
	}
	buyer := app.client()
	buyer.signIn("buyer.16c@example.nhs.uk")

	cases := []struct {
		name string
		path string
		want int
	}{
		{"OwnCCG", "/ccgs/16C", http.StatusOK},
		{"OwnCCGLowerCase", "/ccgs/16c", http.StatusOK},
		{"OwnPractice", "/practices/A81001", http.StatusOK},
		{"OtherCCG", "/ccgs/03Q", http.StatusNotFound},
		{"OtherPractice", "/practices/" + otherPractice, http.StatusNotFound},
		{"NoSuchCCG", "/ccgs/ZZZ", http.StatusNotFound},
	}
	for _, c := range cases {
		resp := buyer.get(c.path)
		if resp.StatusCode != c.want {
			t.Errorf("%s: GET %s = %d, want %d", c.name, c.path, resp.StatusCode, c.want)
		}
		if c.want == http.StatusNotFound {
			body := text(t, resp)
			if strings.Contains(body, "03Q") && !strings.Contains(c.path, "03Q") || strings.Contains(body, otherPractice) && !strings.Contains(c.path, otherPractice) {
				t.Errorf("%s: the 404 page mentions the other CCG's data", c.name)
			}
		}
	}
	// A different CCG's 404 must look exactly like a missing CCG's.
	a := doc(t, buyer.get("/ccgs/03Q")).Find("main").Text()
	b := doc(t, buyer.get("/ccgs/ZZZ")).Find("main").Text()
	if a != b {
		t.Errorf("another CCG's page differs from a missing one:\n%s\n---\n%s", a, b)
	}

	// The CCG list shows the buyer's CCG alone, whatever the filters say.
	d := doc(t, buyer.get("/ccgs?q=&region=Y56"))
	if n := d.Find("[data-testid=ccg-list] tbody tr").Length(); n != 0 {
		t.Errorf("buyer filtering by London sees %d CCGs, want 0", n)
	}
	d = doc(t, buyer.get("/ccgs"))
	if rows := d.Find("[data-testid=ccg-list] tbody tr"); rows.Length() != 1 || !strings.Contains(rows.Text(), "16C") {
		t.Errorf("buyer's CCG list: %q", rows.Text())
	}

	// Reviewers see every CCG.
	reviewer := app.client()
	reviewer.signIn("reviewer@example.nhs.uk")
	wantStatus(t, reviewer.get("/ccgs/03Q"), http.StatusOK)
	wantStatus(t, reviewer.get("/practices/"+otherPractice), http.StatusOK)
}

func TestCrossOriginStateChangesAreRefused(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, nil)
	form := url.Values{"email": {"admin@example.nhs.uk"}, "password": {auth.DemoPassword}}
	cases := []struct {
		name   string
		header []string
		want   int
	}{
		{"CrossSiteFetchMetadata", []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{"SameSiteOtherOrigin", []string{"Sec-Fetch-Site", "same-site"}, http.StatusForbidden},
		{"OtherOriginHeaderOnly", []string{"Sec-Fetch-Site", "", "Origin", "https://evil.example"}, http.StatusForbidden},
		{"SameOrigin", []string{"Sec-Fetch-Site", "same-origin"}, http.StatusSeeOther},
	}
	for _, c := range cases {
		resp := app.client().do(http.MethodPost, "/login", form, c.header...)
		if resp.StatusCode != c.want {
			t.Errorf("%s: status %d, want %d", c.name, resp.StatusCode, c.want)
		}
	}

	// A signed-in admin tricked into posting from another site changes nothing.
	admin := app.client()
	admin.signIn("admin@example.nhs.uk")
	resp := admin.do(http.MethodPost, "/admin/users", url.Values{"name": {"Mallory"}, "email": {"mallory@example.com"}, "role": {"admin"}},
		"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
	wantStatus(t, resp, http.StatusForbidden)
	var n int
	if err := app.pool.QueryRow(context.Background(), `SELECT count(*) FROM users WHERE email = 'mallory@example.com'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("cross-site POST created %d users (%v)", n, err)
	}
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, nil)
	c := app.client()
	for _, path := range []string{"/login", "/static/app.css", "/no-such-page", "/healthz"} {
		h := c.get(path).Header
		csp := h.Get("Content-Security-Policy")
		if csp == "" || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: headers %v", path, h)
		}
		if h.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS over plain http", path)
		}
		if h.Get("X-Request-Id") == "" {
			t.Errorf("%s: no request id", path)
		}
	}
	resp := c.post("/login", url.Values{"email": {"admin@example.nhs.uk"}, "password": {auth.DemoPassword}})
	// A redirect carries the session too: no cache may keep it.
	for _, r := range []*http.Response{resp, app.client().get("/ccgs"), c.get("/login")} {
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s %s: %d with Cache-Control %q, want 303 with no-store", r.Request.Method, r.Request.URL.Path, r.StatusCode, r.Header.Get("Cache-Control"))
		}
	}
	if got := c.get("/static/app.css").Header.Get("Cache-Control"); !strings.Contains(got, "max-age") {
		t.Errorf("static files: Cache-Control %q, want them cached", got)
	}
	var found bool
	for _, ck := range resp.Cookies() {
		if ck.Name == "session" {
			found = true
			if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" {
				t.Errorf("session cookie %+v", ck)
			}
		}
	}
	if !found {
		t.Error("no session cookie set on sign-in")
	}
}

func TestHTTPSDeploymentHardensCookieAndHSTS(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, map[string]string{"BASE_URL": "https://tracker.example.nhs.uk"})
	c := app.client()
	if got := c.get("/login").Header.Get("Strict-Transport-Security"); !strings.Contains(got, "max-age=") {
		t.Errorf("HSTS = %q", got)
	}
	resp := c.post("/login", url.Values{"email": {"admin@example.nhs.uk"}, "password": {auth.DemoPassword}})
	var found bool
	for _, ck := range resp.Cookies() {
		if ck.Name == "__Host-session" {
			found = ck.Secure && ck.HttpOnly && ck.Path == "/" && ck.Domain == ""
		}
	}
	if !found {
		t.Errorf("want a Secure, HttpOnly __Host-session cookie; got %v", resp.Header.Values("Set-Cookie"))
	}
}

func TestErrorPagesRevealNothingInternal(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, nil)
	c := app.client()
	resp := c.get("/no-such-page")
	wantStatus(t, resp, http.StatusNotFound)
	if h1 := doc(t, resp).Find("h1").Text(); h1 != "Page not found" {
		t.Errorf("404 heading %q", h1)
	}

	// An internal error shows the generic page with the request id only.
	rec := &recorder{header: http.Header{"X-Request-Id": {"req-123"}}}
	req, _ := http.NewRequest(http.MethodGet, "/x", nil)
	app.srv.fail(rec, req, errInternalForTest)
	body := rec.body.String()
	if rec.status != http.StatusInternalServerError || strings.Contains(body, "secret detail") || !strings.Contains(body, "req-123") {
		t.Errorf("500 page: status %d, body %q", rec.status, body)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, nil)
	c := app.client()
	resp := c.get("/healthz")
	wantStatus(t, resp, http.StatusOK)
	resp = c.get("/readyz")
	wantStatus(t, resp, http.StatusOK)

	// A schema behind the code makes the instance not ready.
	if _, err := app.pool.Exec(context.Background(), `UPDATE schema_migrations SET version = version - 1`); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, c.get("/readyz"), http.StatusServiceUnavailable)
	wantStatus(t, c.get("/healthz"), http.StatusOK)
}

// A NUL byte, bytes that are not UTF-8, or a lone surrogate in an address
// or a form are refused with a 400 page saying so, before they reach the
// database (where they once failed as 500s), and nothing is saved.
func TestUnreadableBytesAreRefusedAtTheEdge(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, nil)
	anon := app.client()
	buyer := app.client()
	buyer.signIn("buyer.16c@example.nhs.uk")
	reviewer := app.client()
	reviewer.signIn("reviewer@example.nhs.uk")
	countOrders := func() int {
		var n int
		if err := app.pool.QueryRow(context.Background(), `SELECT count(*) FROM orders`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	orders := countOrders()
	for _, bad := range []string{"a\x00b", "caf\xe9", "\xed\xa0\x80"} {
		for _, tc := range []struct {
			c      *client
			method string
			path   string
			form   url.Values
		}{
			{reviewer, "GET", "/orders?q=" + url.QueryEscape(bad), nil},
			{reviewer, "GET", "/ccgs?q=" + url.QueryEscape(bad), nil},
			{reviewer, "GET", "/ccgs/16C/services?practice=" + url.QueryEscape(bad), nil},
			{reviewer, "GET", "/ccgs/" + url.PathEscape(bad), nil},
			{anon, "POST", "/login", url.Values{"email": {bad}, "password": {"x"}}},
			{buyer, "POST", "/orders", url.Values{"description": {bad}, "ccg": {"16C"}}},
			{buyer, "POST", "/procurements", url.Values{"name": {bad}}},
			{buyer, "POST", "/ccgs/16C/returns/2026-11/lines", url.Values{"kind": {"activation"}, "practice": {bad}}},
		} {
			resp := tc.c.do(tc.method, tc.path, tc.form)
			body := text(t, resp)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "a character the service cannot read") {
				t.Errorf("%s %s with %q: status %d, want 400 saying why", tc.method, tc.path, bad, resp.StatusCode)
			}
		}
	}
	if n := countOrders(); n != orders {
		t.Errorf("orders went from %d to %d", orders, n)
	}
}
