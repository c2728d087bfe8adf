package server

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"ccgtracker/internal/auth"
	"ccgtracker/internal/postgres/pgtest"
)

func TestSignInRenewsTheSessionToken(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, nil)
	c := app.client()
	c.signIn("buyer.16c@example.nhs.uk")
	first := c.sessionCookie()
	if first == "" {
		t.Fatal("no session cookie after sign-in")
	}
	c.signIn("buyer.16c@example.nhs.uk")
	second := c.sessionCookie()
	if second == "" || second == first {
		t.Fatalf("token not renewed on sign-in: %q then %q", first, second)
	}

	// The old token is worth nothing now.
	old := app.client()
	u, _ := url.Parse(app.ts.URL)
	old.http.Jar.SetCookies(u, []*http.Cookie{{Name: "session", Value: first}})
	wantRedirect(t, old.get("/"), "/login?next=%2F")
}

func TestSignOutDestroysTheSession(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, nil)
	c := app.client()
	c.signIn("reviewer@example.nhs.uk")
	token := c.sessionCookie()
	wantStatus(t, c.get("/"), http.StatusOK)

	wantRedirect(t, c.post("/logout", nil), "/login?signedout=1")

	// Replaying the token, as someone who copied the cookie would, fails.
	replay := app.client()
	u, _ := url.Parse(app.ts.URL)
	replay.http.Jar.SetCookies(u, []*http.Cookie{{Name: "session", Value: token}})
	wantRedirect(t, replay.get("/"), "/login?next=%2F")
}

func TestSignInRefusalsLookTheSame(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, nil)
	ctx := context.Background()
	// A user who has not set a password yet, and a deactivated one.
	if _, err := app.pool.Exec(ctx, `UPDATE users SET password_hash = NULL WHERE email = 'finance@example.nhs.uk'`); err != nil {
		t.Fatal(err)
	}
	if _, err := app.pool.Exec(ctx, `UPDATE users SET active = false WHERE email = 'buyer.03q@example.nhs.uk'`); err != nil {
		t.Fatal(err)
	}
	cases := map[string]url.Values{
		"UnknownEmail":  {"email": {"nobody@example.nhs.uk"}, "password": {auth.DemoPassword}},
		"WrongPassword": {"email": {"buyer.16c@example.nhs.uk"}, "password": {"wrong-password"}},
		"NoPasswordSet": {"email": {"finance@example.nhs.uk"}, "password": {auth.DemoPassword}},
		"Deactivated":   {"email": {"buyer.03q@example.nhs.uk"}, "password": {auth.DemoPassword}},
	}
	var pages []string
	for name, form := range cases {
		t.Run(name, func(t *testing.T) {
			resp := app.client().post("/login", form)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s: status %d, want 401", name, resp.StatusCode)
			}
			d := doc(t, resp)
			summary := strings.TrimSpace(d.Find(".nhsuk-error-summary__list").Text())
			if summary != "Enter a correct email address and password" {
				t.Errorf("%s: error summary %q", name, summary)
			}
			if v, _ := d.Find("#password").Attr("value"); v != "" {
				t.Errorf("%s: the password was echoed back", name)
			}
			pages = append(pages, summary)
		})
	}
	for _, p := range pages[1:] {
		if p != pages[0] {
			t.Errorf("refusals differ: %q and %q", pages[0], p)
		}
	}
}

func TestSignInAsksForMissingFields(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, nil)
	resp := app.client().post("/login", url.Values{})
	wantStatus(t, resp, http.StatusUnauthorized)
	d := doc(t, resp)
	if got := d.Find(".nhsuk-error-summary__list a").Length(); got != 2 {
		t.Errorf("error summary has %d links, want 2 (email and password)", got)
	}
	if href, _ := d.Find(".nhsuk-error-summary__list a").First().Attr("href"); href != "#email" {
		t.Errorf("first error links to %q, want #email", href)
	}
	if d.Find("#email-error").Length() != 1 || d.Find(".nhsuk-form-group--error").Length() != 2 {
		t.Error("field messages missing beside the fields")
	}
}

func TestRepeatedFailuresAreSlowedThenRefused(t *testing.T) {
	t.Parallel()
	th := auth.Throttle{Window: 15 * time.Minute, SlowAfter: 1, Step: time.Second, MaxDelay: 3 * time.Second, AccountLimit: 4, AddressLimit: 100}
	app := newTestApp(t, nil, WithThrottle(th))
	wrong := url.Values{"email": {"buyer.16c@example.nhs.uk"}, "password": {"guess"}}
	for range 4 {
		wantStatus(t, app.client().post("/login", wrong), http.StatusUnauthorized)
	}
	want := []time.Duration{0, time.Second, 2 * time.Second, 3 * time.Second}
	app.mu.Lock()
	got := append([]time.Duration(nil), app.delays...)
	app.mu.Unlock()
	// The first failure is not delayed, so it records nothing.
	if len(got) != 3 || got[0] != want[1] || got[1] != want[2] || got[2] != want[3] {
		t.Errorf("delays = %v, want %v after the first", got, want[1:])
	}

	// Locked: even the right password is refused, with a message saying so.
	resp := app.client().post("/login", url.Values{"email": {"buyer.16c@example.nhs.uk"}, "password": {auth.DemoPassword}})
	wantStatus(t, resp, http.StatusTooManyRequests)
	if msg := doc(t, resp).Find(".nhsuk-error-summary").Text(); !strings.Contains(msg, "too many failed attempts") || !strings.Contains(msg, "15 minutes") {
		t.Errorf("lock message = %q", msg)
	}
	// Another account from the same address is not locked.
	app.client().signIn("reviewer@example.nhs.uk")

	// After the window the account signs in again.
	app.advance(16 * time.Minute)
	app.client().signIn("buyer.16c@example.nhs.uk")
}

func TestFailuresFromOneAddressAreRefused(t *testing.T) {
	t.Parallel()
	th := auth.Throttle{Window: 15 * time.Minute, SlowAfter: 100, Step: time.Second, MaxDelay: time.Second, AccountLimit: 100, AddressLimit: 3}
	app := newTestApp(t, nil, WithThrottle(th))
	for _, email := range []string{"a@example.nhs.uk", "b@example.nhs.uk", "c@example.nhs.uk"} {
		wantStatus(t, app.client().post("/login", url.Values{"email": {email}, "password": {"guess"}}), http.StatusUnauthorized)
	}
	resp := app.client().post("/login", url.Values{"email": {"admin@example.nhs.uk"}, "password": {auth.DemoPassword}})
	wantStatus(t, resp, http.StatusTooManyRequests)
}

func TestSuccessClearsTheAccountsFailures(t *testing.T) {
	t.Parallel()
	th := auth.Throttle{Window: 15 * time.Minute, SlowAfter: 100, Step: time.Second, MaxDelay: time.Second, AccountLimit: 3, AddressLimit: 100}
	app := newTestApp(t, nil, WithThrottle(th))
	wrong := url.Values{"email": {"admin@example.nhs.uk"}, "password": {"typo"}}
	for range 2 {
		wantStatus(t, app.client().post("/login", wrong), http.StatusUnauthorized)
	}
	app.client().signIn("admin@example.nhs.uk")
	for range 2 {
		wantStatus(t, app.client().post("/login", wrong), http.StatusUnauthorized)
	}
	app.client().signIn("admin@example.nhs.uk") // 2 new failures, not 4: still allowed
}

func TestSignInReturnsToTheRequestedPage(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, nil)
	c := app.client()
	wantRedirect(t, c.get("/ccgs/16C?q=park"), "/login?next=%2Fccgs%2F16C%3Fq%3Dpark")
	d := doc(t, c.get("/login?next=%2Fccgs%2F16C%3Fq%3Dpark"))
	next, _ := d.Find("input[name=next]").Attr("value")
	resp := c.post("/login", url.Values{"email": {"buyer.16c@example.nhs.uk"}, "password": {auth.DemoPassword}, "next": {next}})
	wantRedirect(t, resp, "/ccgs/16C?q=park")

	// Only to a local path.
	for _, evil := range []string{"https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"} {
		t.Run(evil, func(t *testing.T) {
			resp := app.client().post("/login", url.Values{"email": {"buyer.16c@example.nhs.uk"}, "password": {auth.DemoPassword}, "next": {evil}})
			wantRedirect(t, resp, "/")
		})
	}
}

func TestDeactivationEndsSessionsAtOnce(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, nil)
	buyer := app.client()
	buyer.signIn("buyer.16c@example.nhs.uk")
	wantStatus(t, buyer.get("/ccgs/16C"), http.StatusOK)

	var id string
	if err := app.pool.QueryRow(context.Background(), `SELECT id::text FROM users WHERE email = 'buyer.16c@example.nhs.uk'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	admin := app.client()
	admin.signIn("admin@example.nhs.uk")
	wantRedirect(t, admin.post("/admin/users/"+id+"/deactivate", nil), "/admin/users/"+id)

	wantRedirect(t, buyer.get("/ccgs/16C"), "/login?next=%2Fccgs%2F16C")
	wantStatus(t, app.client().post("/login", url.Values{"email": {"buyer.16c@example.nhs.uk"}, "password": {auth.DemoPassword}}), http.StatusUnauthorized)

	var actions int
	if err := app.pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action = 'user.deactivate' AND entity_id = $1`, id).Scan(&actions); err != nil || actions != 1 {
		t.Errorf("audit entries for the deactivation: %d (%v), want 1", actions, err)
	}
}

func TestSetPasswordLinkWorksOnceAndExpires(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, nil)
	admin := app.client()
	admin.signIn("admin@example.nhs.uk")

	resp := admin.post("/admin/users", url.Values{"name": {"Nia New"}, "email": {"Nia.New@Example.nhs.uk "}, "role": {"buyer"}, "ccg": {"16c"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create user: %d %s", resp.StatusCode, text(t, resp))
	}
	userPath := resp.Header.Get("Location")

	link := func() string {
		d := doc(t, admin.post(userPath+"/password-link", nil))
		l := strings.TrimSpace(d.Find("[data-testid=password-link] code").Text())
		if !strings.HasPrefix(l, app.ts.URL+"/set-password/") {
			t.Fatalf("link %q", l)
		}
		return strings.TrimPrefix(l, app.ts.URL)
	}
	first := link()
	second := link()
	// A new link replaces the earlier one.
	wantStatus(t, app.client().get(first), http.StatusNotFound)

	newcomer := app.client()
	wantStatus(t, newcomer.get(second), http.StatusOK)
	resp = newcomer.post(second, url.Values{"password": {"short"}, "confirm": {"short"}})
	wantStatus(t, resp, http.StatusBadRequest)
	if !strings.Contains(doc(t, resp).Find(".nhsuk-error-summary").Text(), "12 characters or more") {
		t.Error("short password not explained")
	}
	resp = newcomer.post(second, url.Values{"password": {"correct horse battery"}, "confirm": {"correct horse battery"}})
	wantRedirect(t, resp, "/")
	if h1 := doc(t, newcomer.get("/")).Find("h1").Text(); h1 != "NHS Tees Valley CCG" {
		t.Errorf("after setting a password the dashboard says %q", h1)
	}
	// Used once: gone, and the page says why.
	resp = app.client().get(second)
	wantStatus(t, resp, http.StatusNotFound)
	if body := doc(t, resp).Find("main").Text(); !strings.Contains(body, "expired or has already been used") {
		t.Errorf("used link page: %q", body)
	}
	wantStatus(t, app.client().post(second, url.Values{"password": {"another long password"}, "confirm": {"another long password"}}), http.StatusNotFound)

	// A link not used within 24 hours expires.
	late := link()
	app.advance(24*time.Hour + time.Second)
	wantStatus(t, app.client().get(late), http.StatusNotFound)

	// The new buyer signs in with the password they chose.
	resp = app.client().post("/login", url.Values{"email": {"nia.new@example.nhs.uk"}, "password": {"correct horse battery"}})
	wantRedirect(t, resp, "/")
}

// The return address after sign-in is a page of this site after every
// normalisation, never another site: "/./\evil.example" once became
// "Location: /\evil.example", which browsers follow to evil.example.
func TestSignInReturnAddressStaysOnThisSite(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, nil)
	for _, tc := range []struct{ next, want string }{
		{"/ccgs/16C?q=park", "/ccgs/16C?q=park"},
		{"/returns", "/returns"},
		{"/./\\evil.example", "/"},
		{"/../\\evil.example", "/"},
		{"/\\evil.example", "/"},
		{"/%5Cevil.example", "/"},
		{"//evil.example", "/"},
		{"///evil.example", "/"},
		{"https://evil.example/", "/"},
		{"http:/evil.example", "/"},
		{"/./ccgs", "/"},
		{"/ccgs/../login", "/"},
		{"/login?next=/ccgs", "/"},
		{"/\tevil", "/"},
		{"/no-such-page", "/"},
		{"javascript:alert(1)", "/"},
		{"", "/"},
	} {
		t.Run(tc.next, func(t *testing.T) {
			if got := app.srv.localPath(tc.next); got != tc.want {
				t.Errorf("localPath(%q) = %q, want %q", tc.next, got, tc.want)
			}
		})
	}
	c := app.client()
	resp := c.post("/login", url.Values{"email": {"reviewer@example.nhs.uk"}, "password": {auth.DemoPassword}, "next": {"/./\\evil.example"}})
	wantRedirect(t, resp, "/")
	d := doc(t, app.client().get("/login?next=/./%5Cevil.example"))
	if v := d.Find(`input[name=next]`).AttrOr("value", ""); v != "/" {
		t.Errorf("the sign-in form carries next=%q, want /", v)
	}
}

// The login handler holds back a throttled refusal with no connection
// held: on a pool of one connection, parallel throttled sign-ins all end,
// and while each waits out its delay another query runs.
func TestThrottledSignInHoldsNoConnectionWhileItWaits(t *testing.T) {
	t.Parallel()
	_, dbURL := pgtest.NewWithURL(t)
	pool, _ := pgtest.Open(t, dbURL, func(c *pgxpool.Config) { c.MaxConns = 1 })
	th := auth.Throttle{Window: 15 * time.Minute, SlowAfter: 0, Step: time.Second, MaxDelay: 5 * time.Second, AccountLimit: 100, AddressLimit: 100}
	app := newTestAppOn(t, pool, nil, WithThrottle(th))
	var mu sync.Mutex
	var waits int
	var problems []string
	app.srv.sleep = func(ctx context.Context, d time.Duration) {
		// Bounded only so that a regression fails instead of hanging.
		qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		var one int
		err := pool.QueryRow(qctx, `SELECT 1`).Scan(&one)
		mu.Lock()
		defer mu.Unlock()
		waits++
		if err != nil {
			problems = append(problems, err.Error())
		}
	}
	const attempts = 12
	statuses := make([]int, attempts)
	var wg sync.WaitGroup
	for i := range attempts {
		wg.Go(func() {
			resp := app.client().post("/login", url.Values{"email": {"buyer.16c@example.nhs.uk"}, "password": {"guess"}})
			statuses[i] = resp.StatusCode
		})
	}
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusUnauthorized {
			t.Errorf("attempt %d: status %d, want 401", i, s)
		}
	}
	if waits != attempts || len(problems) > 0 {
		t.Errorf("%d of %d refusals held back; queries while they waited: %v", waits, attempts, problems)
	}
}
