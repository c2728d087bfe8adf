package e2e

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"ccgtracker/internal/auth"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/org"
	"ccgtracker/internal/testkit"
	"ccgtracker/internal/tracker"
)

// TestAdminFindsWhoAcceptedAReturn: 16C's nil return for last month was
// submitted by its buyer and accepted by the reviewer. An administrator
// asks "who accepted it, and when?": from the return's page they follow
// its history into the audit log, read the acceptance field by field in
// words, then find it again with the log's own filters, and page through
// the whole log. axe at 1280 px and 320 px on each page.
func TestAdminFindsWhoAcceptedAReturn(t *testing.T) {
	t.Parallel()
	base, pool := newAppWithPool(t, nil)
	ctx := context.Background()
	now := time.Now()
	last := tracker.PeriodOf(dates.Today(now)).Prev()
	if _, err := tracker.NewStore(pool, testkit.NewClock(now).Now).Issue(ctx, org.System(), last); err != nil {
		t.Fatal(err)
	}
	var buyer, reviewer int64
	if err := pool.QueryRow(ctx, `SELECT id FROM users WHERE email = 'buyer.16c@example.nhs.uk'`).Scan(&buyer); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `SELECT id FROM users WHERE email = 'reviewer@example.nhs.uk'`).Scan(&reviewer); err != nil {
		t.Fatal(err)
	}
	r, err := tracker.Get(ctx, pool, org.OnlyCCG("16C"), "16C", last)
	if err != nil {
		t.Fatal(err)
	}
	if err := tracker.NewStore(pool, testkit.NewClock(now).Now).Submit(ctx, org.UserActor(buyer, org.OnlyCCG("16C")), "16C", last, r.Version, true); err != nil {
		t.Fatal(err)
	}
	if _, err := tracker.NewStore(pool, testkit.NewClock(now.Add(time.Minute)).Now).Accept(ctx, org.UserActor(reviewer, org.AllCCGs()), "16C", last, r.Version+1); err != nil {
		t.Fatal(err)
	}
	object := "16C/" + last.String()

	b := newBrowser(t)
	signIn(t, b, base, "admin@example.nhs.uk", auth.DemoPassword)
	visit(t, b, base+"/ccgs/16C/returns/"+last.String())
	wantContains(t, b, "[data-testid=history-link]", "History of this return")
	checkAccessibilityAtWidths(t, b, "the return's page with its history link")
	click(t, b, "[data-testid=history-link] a")
	wantPath(t, b, base, "/admin/audit?object="+strings.ReplaceAll(object, "/", "%2F")+"&type=return")
	entries := texts(t, b, "[data-testid=audit-entry]")
	if len(entries) != 2 {
		t.Fatalf("the return's history has %d entries, want the submission and the acceptance: %q", len(entries), entries)
	}
	// Newest first: the acceptance, by the reviewer, in words.
	accepted := entries[0]
	for _, want := range []string{"reviewer@example.nhs.uk", "Return accepted", "Monthly return " + object,
		"Status: changed from “submitted” to “accepted”", "Services changed: set to “0”"} {
		if !strings.Contains(accepted, want) {
			t.Errorf("the acceptance reads %q, without %q", accepted, want)
		}
	}
	if !strings.Contains(entries[1], "buyer.16c@example.nhs.uk") || !strings.Contains(entries[1], "Return submitted") ||
		!strings.Contains(entries[1], "Nil return: set to “Yes”") {
		t.Errorf("the submission reads %q", entries[1])
	}
	if strings.Contains(strings.Join(entries, " "), "{") {
		t.Errorf("raw JSON shown: %q", entries)
	}
	checkAccessibilityAtWidths(t, b, "the audit log filtered to one return")

	// The same answer from the log's own filters: who, CCG, kind, dates.
	visit(t, b, base+"/admin/audit")
	fill(t, b, "who", "reviewer")
	fill(t, b, "ccg", "16C")
	fill(t, b, "type", "return")
	today := dates.Today(now)
	fill(t, b, "from-day", strconv.Itoa(today.Day()))
	fill(t, b, "from-month", strconv.Itoa(int(today.Month())))
	fill(t, b, "from-year", strconv.Itoa(today.Year()))
	click(t, b, "[data-testid=audit-filters] button[type=submit]")
	entries = texts(t, b, "[data-testid=audit-entry]")
	if len(entries) != 1 || !strings.Contains(entries[0], "Return accepted") || !strings.Contains(entries[0], object) {
		t.Errorf("filtered by who, CCG, kind and date: %q", entries)
	}
	wantText(t, b, "[data-testid=pager-summary]", "Showing 1 to 1 of 1")
	checkAccessibilityAtWidths(t, b, "the audit log filtered by who, CCG, kind and date")

	// A date that does not exist is refused in words, next to its field.
	fill(t, b, "to-day", "31")
	fill(t, b, "to-month", "2")
	fill(t, b, "to-year", strconv.Itoa(today.Year()))
	click(t, b, "[data-testid=audit-filters] button[type=submit]")
	wantContains(t, b, ".nhsuk-error-summary", "To date must be a real date")
	wantContains(t, b, "#to-day-error", "To date must be a real date")
	checkAccessibilityAtWidths(t, b, "the audit log with a bad date")

	// The whole log pages, 25 entries at a time, newest first: with 30
	// due-day changes of an hour ago added, the second page holds the rest.
	if _, err := pool.Exec(ctx, `INSERT INTO audit_log (at, action, entity_type, entity_id, before, after)
		SELECT $1::timestamptz - interval '1 hour' - n * interval '1 second', 'ccg.due_day', 'ccg', '16C', '{"due_day": 10}', jsonb_build_object('due_day', n % 28 + 1)
		FROM generate_series(1, 30) n`, now); err != nil {
		t.Fatal(err)
	}
	var total int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM audit_log`).Scan(&total); err != nil {
		t.Fatal(err)
	}
	visit(t, b, base+"/admin/audit")
	if n := len(texts(t, b, "[data-testid=audit-entry]")); n != 25 {
		t.Errorf("the whole log's first page has %d entries, want 25", n)
	}
	wantText(t, b, "[data-testid=pager-summary]", "Showing 1 to 25 of "+strconv.Itoa(total))
	click(t, b, ".nhsuk-pagination__link--next")
	wantPath(t, b, base, "/admin/audit?page=2")
	wantText(t, b, "[data-testid=pager-summary]", "Showing 26 to "+strconv.Itoa(min(50, total))+" of "+strconv.Itoa(total))
	// The last page holds the oldest: the due-day changes, in words.
	pages := (total + 24) / 25
	visit(t, b, base+"/admin/audit?page="+strconv.Itoa(pages))
	if n := len(texts(t, b, "[data-testid=audit-entry]")); n != total-(pages-1)*25 {
		t.Errorf("the last page has %d entries, want %d", n, total-(pages-1)*25)
	}
	wantContains(t, b, "[data-testid=audit]", "Due day: changed from “10” to")
	checkAccessibilityAtWidths(t, b, "the audit log's last page")
}
