package server

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"ccgtracker/internal/auth"
	"ccgtracker/internal/testkit"
)

func (a *testApp) userByEmail(email string) auth.User {
	a.t.Helper()
	return testkit.UserByEmail(a.t, a.pool, email)
}

// TestOnlyAdminsPutUsersRightOrReadTheLog: the new admin pages and
// actions refuse every other role as the route table says (403), and a
// cross-site POST by a signed-in admin changes nothing.
func TestOnlyAdminsPutUsersRightOrReadTheLog(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, nil)
	bea := app.userByEmail("buyer.16c@example.nhs.uk")
	id := fmt.Sprint(bea.ID)
	edit := url.Values{"name": {"Mallory"}, "role": {"admin"}, "ccg": {""}, "version": {auth.UserVersion(bea)}}
	for _, email := range []string{"buyer.16c@example.nhs.uk", "buyer.03q@example.nhs.uk", "reviewer@example.nhs.uk", "finance@example.nhs.uk"} {
		t.Run(email, func(t *testing.T) {
			c := app.clientAs(email)
			for _, path := range []string{"/admin/audit", "/admin/audit?type=return&object=16C/2026-11", "/admin/users", "/admin/users/" + id + "/edit"} {
				wantStatus(t, c.get(path), http.StatusForbidden)
			}
			wantStatus(t, c.post("/admin/users/"+id+"/edit", edit), http.StatusForbidden)
			wantStatus(t, c.post("/admin/users/"+id+"/reactivate", url.Values{}), http.StatusForbidden)
		})
	}
	t.Run("Anonymous", func(t *testing.T) {
		anon := app.client()
		if resp := anon.get("/admin/audit"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
			t.Errorf("anonymous audit log: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	admin := app.clientAs("admin@example.nhs.uk")
	for _, path := range []string{"/admin/users/" + id + "/edit", "/admin/users/" + id + "/reactivate", "/admin/users/" + id + "/deactivate"} {
		t.Run("CrossSite "+path, func(t *testing.T) {
			resp := admin.do(http.MethodPost, path, edit, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
			wantStatus(t, resp, http.StatusForbidden)
		})
	}
	if got := app.userByEmail("buyer.16c@example.nhs.uk"); got.Name != bea.Name || got.Role != auth.Buyer || !got.Active {
		t.Errorf("refused requests changed the user: %+v", got)
	}
	// Another user's id that does not exist is the 404 page.
	wantStatus(t, admin.get("/admin/users/999999/edit"), http.StatusNotFound)
}

// TestARoleChangeSignsTheUserOutEverywhere: Bea is signed in on two
// browsers; an admin makes her a reviewer; both sessions are gone at once
// (their rows deleted), and her next request asks her to sign in.
func TestARoleChangeSignsTheUserOutEverywhere(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, nil)
	laptop, phone := app.clientAs("buyer.16c@example.nhs.uk"), app.clientAs("buyer.16c@example.nhs.uk")
	ben := app.clientAs("buyer.03q@example.nhs.uk")
	wantStatus(t, laptop.get("/account"), http.StatusOK)
	bea := app.userByEmail("buyer.16c@example.nhs.uk")
	count := func() (n int) {
		if err := app.pool.QueryRow(context.Background(), `SELECT count(*) FROM sessions WHERE user_id = $1`, bea.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 2 {
		t.Fatalf("%d sessions of Bea's, want 2", n)
	}
	admin := app.clientAs("admin@example.nhs.uk")
	form := url.Values{"name": {"Bea Buyer"}, "role": {"reviewer"}, "ccg": {""}, "version": {auth.UserVersion(bea)}}
	wantRedirect(t, admin.post(fmt.Sprintf("/admin/users/%d/edit", bea.ID), form), fmt.Sprintf("/admin/users/%d", bea.ID))
	if n := count(); n != 0 {
		t.Errorf("%d sessions left after the role change", n)
	}
	for _, c := range []*client{laptop, phone} {
		if resp := c.get("/account"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
			t.Errorf("after the role change: %d %s, want the sign-in page", resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	wantStatus(t, ben.get("/account"), http.StatusOK)
	// The same form again is a stale page now: refused, in words.
	resp := admin.post(fmt.Sprintf("/admin/users/%d/edit", bea.ID), form)
	wantStatus(t, resp, http.StatusConflict)
	if !strings.Contains(text(t, resp), "Someone else changed this user") {
		t.Error("a stale edit does not say why it was refused")
	}
}

// TestEditUserFormShowsProblemsNextToTheFields: a buyer without a CCG
// comes back with the error summary and the field's message, unsaved.
func TestEditUserFormShowsProblemsNextToTheFields(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, nil)
	admin := app.clientAs("admin@example.nhs.uk")
	rita := app.userByEmail("reviewer@example.nhs.uk")
	resp := admin.post(fmt.Sprintf("/admin/users/%d/edit", rita.ID), url.Values{"name": {""}, "role": {"buyer"}, "ccg": {""}, "version": {auth.UserVersion(rita)}})
	wantStatus(t, resp, http.StatusBadRequest)
	d := doc(t, resp)
	summary := d.Find(".nhsuk-error-summary").Text()
	if !strings.Contains(summary, "Enter the person's full name") || !strings.Contains(summary, "Select the CCG this buyer belongs to") {
		t.Errorf("error summary: %q", summary)
	}
	if d.Find("#ccg-error").Length() != 1 || d.Find("#name-error").Length() != 1 {
		t.Error("the messages are not next to their fields")
	}
	if got := app.userByEmail("reviewer@example.nhs.uk"); got.Role != auth.Reviewer {
		t.Errorf("saved half-way: %s", got.Role)
	}
}

// TestAccountPageListsWhatIsSentAndSent: a buyer's account page says
// which emails the service sends them, and shows those queued to them,
// with the link made from BASE_URL; never another person's.
func TestAccountPageListsWhatIsSentAndSent(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, map[string]string{"BASE_URL": "https://tracker.example.nhs.uk"})
	admin := app.clientAs("admin@example.nhs.uk")
	bea, ben := app.userByEmail("buyer.16c@example.nhs.uk"), app.userByEmail("buyer.03q@example.nhs.uk")
	wantStatus(t, admin.post(fmt.Sprintf("/admin/users/%d/password-link", bea.ID), url.Values{}), http.StatusOK)
	wantStatus(t, admin.post(fmt.Sprintf("/admin/users/%d/password-link", ben.ID), url.Values{}), http.StatusOK)
	c := app.clientAs("buyer.16c@example.nhs.uk")
	resp := c.get("/account")
	wantStatus(t, resp, http.StatusOK)
	d := doc(t, resp)
	if s := d.Find("[data-testid=sends]").Text(); !strings.Contains(s, "sends your return back") && !strings.Contains(s, "When NHS Digital sends your return back") {
		t.Errorf("sends: %q", s)
	}
	msgs := d.Find("[data-testid=message]")
	if msgs.Length() != 1 {
		t.Fatalf("%d messages on Bea's account page, want her one", msgs.Length())
	}
	if body := msgs.Text(); !strings.Contains(body, "https://tracker.example.nhs.uk/set-password/") || !strings.Contains(body, "buyer.16c@example.nhs.uk") {
		t.Errorf("message: %q", body)
	}
	// The header's account area links to the page.
	if href, _ := d.Find(".nhsuk-header__account-link").Attr("href"); href != "/account" {
		t.Errorf("header account link %q", href)
	}
}

// TestIssuingAPastMonthAsksFirst: on 24 November 2026, October's returns
// (due in November, from the 3rd) would be late at once: the admin is
// told how many on a confirmation page, nothing is issued until they
// press its button, and then every one is.
func TestIssuingAPastMonthAsksFirst(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, nil)
	admin := app.clientAs("admin@example.nhs.uk")
	count := func() (n int) {
		if err := app.pool.QueryRow(context.Background(), `SELECT count(*) FROM tracker_returns WHERE period = '2026-10-01'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	resp := admin.post("/admin/returns/issue", url.Values{"period": {"2026-10"}})
	wantStatus(t, resp, http.StatusOK)
	d := doc(t, resp)
	warning := d.Find("[data-testid=issue-warning]").Text()
	if !strings.Contains(warning, "106 returns will be issued") || !strings.Contains(warning, "106 of them will be late at once") {
		t.Errorf("warning: %q", warning)
	}
	if v, _ := d.Find(`form[action="/admin/returns/issue"] input[name=confirm]`).Attr("value"); v != "yes" {
		t.Error("the confirmation page has no button that confirms")
	}
	if n := count(); n != 0 {
		t.Fatalf("%d returns issued before the admin confirmed", n)
	}
	wantRedirect(t, admin.post("/admin/returns/issue", url.Values{"period": {"2026-10"}, "confirm": {"yes"}}), "/admin/returns")
	if n := count(); n != 106 {
		t.Errorf("%d returns issued after confirming, want 106", n)
	}
	// Asked again, nothing is left to issue, and the page says so.
	resp = admin.post("/admin/returns/issue", url.Values{"period": {"2026-10"}})
	wantStatus(t, resp, http.StatusOK)
	if w := doc(t, resp).Find("[data-testid=issue-warning]").Text(); !strings.Contains(w, "0 returns will be issued") {
		t.Errorf("second time: %q", w)
	}
}
