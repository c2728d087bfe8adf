package server

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"ccgtracker/internal/tracker"
)

func TestBuyerDashboardShowsTheReturnToDo(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, nil) // the clock stands on 24 November 2026
	ctx := context.Background()
	for _, month := range []string{"2026-09", "2026-10", "2026-11"} {
		p, _ := tracker.ParsePeriod(month)
		if _, err := tracker.Issue(ctx, app.pool, time.Now(), nil, p); err != nil {
			t.Fatal(err)
		}
	}
	// September's was submitted; October's (due 20 November) is open and late.
	if _, err := app.pool.Exec(ctx, `UPDATE tracker_returns SET status = 'submitted', submitted_at = '2026-10-19 12:00Z' WHERE ccg_code = '16C' AND period = '2026-09-01'`); err != nil {
		t.Fatal(err)
	}
	buyer := app.client()
	buyer.signIn("buyer.16c@example.nhs.uk")
	d := doc(t, buyer.get("/"))
	card := d.Find("[data-testid=current-return]").Text()
	if !strings.Contains(card, "October 2026") || !strings.Contains(card, "Due 20 November 2026") {
		t.Errorf("current return card: %q", card)
	}
	if banner := d.Find("[data-testid=late-banner]").Text(); !strings.Contains(banner, "4 days late") {
		t.Errorf("late banner: %q", banner)
	}
	if late := doc(t, buyer.get("/ccgs/16C")).Find("[data-testid=ccg-late]").Text(); !strings.Contains(late, "October 2026 is 4 days late") {
		t.Errorf("CCG page late note: %q", late)
	}
	earlier := d.Find("[data-testid=earlier-returns] tbody tr")
	if earlier.Length() != 2 || !strings.Contains(earlier.Text(), "Submitted") {
		t.Errorf("earlier returns: %q", earlier.Text())
	}
}

func TestAdminSetsDueDayAndIssuesReturns(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, nil)
	admin := app.client()
	admin.signIn("admin@example.nhs.uk")
	resp := admin.post("/admin/ccgs/16C", url.Values{"due-day": {"31"}})
	wantStatus(t, resp, http.StatusBadRequest)
	if !strings.Contains(doc(t, resp).Find(".nhsuk-error-summary").Text(), "from 1 to 28") {
		t.Error("a due day of 31 was not explained")
	}
	wantRedirect(t, admin.post("/admin/ccgs/16C", url.Values{"due-day": {"3"}}), "/ccgs/16C")
	resp = admin.post("/admin/returns/issue", url.Values{"period": {"2026-11"}})
	wantRedirect(t, resp, "/admin/returns")
	if msg := doc(t, admin.get("/admin/returns")).Find(".nhsuk-notification-banner").Text(); !strings.Contains(msg, "106 returns issued for November 2026") {
		t.Errorf("flash %q", msg)
	}
	var due string
	if err := app.pool.QueryRow(context.Background(), `SELECT due_date::text FROM tracker_returns WHERE ccg_code = '16C'`).Scan(&due); err != nil || due != "2026-12-03" {
		t.Errorf("16C's due date %q (%v), want 2026-12-03 from its own day", due, err)
	}
	wantStatus(t, admin.post("/admin/returns/issue", url.Values{"period": {"November"}}), http.StatusBadRequest)
	// A month that has not started yet cannot be issued (the clock stands in November 2026).
	wantStatus(t, admin.post("/admin/returns/issue", url.Values{"period": {"2027-01"}}), http.StatusBadRequest)
	reviewer := app.client()
	reviewer.signIn("reviewer@example.nhs.uk")
	wantStatus(t, reviewer.post("/admin/returns/issue", url.Values{"period": {"2026-12"}}), http.StatusForbidden)
}
