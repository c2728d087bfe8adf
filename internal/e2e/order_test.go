package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"ccgtracker/internal/auth"
	"ccgtracker/internal/dates"
)

// TestBuyerOrdersASolution: a buyer creates an order, adds a solution and
// three practices, completes it, and sees three planned service
// instances; axe checks every page on the way.
func TestBuyerOrdersASolution(t *testing.T) {
	t.Parallel()
	base := newApp(t, nil)
	ctx := newBrowser(t)
	signIn(t, ctx, base, "buyer.16c@example.nhs.uk", auth.DemoPassword)

	visit(t, ctx, base+"/orders")
	wantText(t, ctx, "h1", "Call-off orders")
	checkAccessibility(t, ctx, "order list")
	click(t, ctx, `a[href="/orders/new"]`)
	wantPath(t, ctx, base, "/orders/new")
	checkAccessibility(t, ctx, "new order form")

	// The order starts on the first of next month and runs 36 months.
	start := dates.AddMonths(dates.Today(time.Now()), 1).AddDate(0, 0, 1-dates.Today(time.Now()).Day())
	live := start.AddDate(0, 1, 3)

	// Bad input first: the error summary, on an accessible page.
	click(t, ctx, `form[action="/orders"] button[type=submit]`)
	wantContains(t, ctx, ".nhsuk-error-summary", "Select a supplier")
	checkAccessibility(t, ctx, "new order form with errors")

	fill(t, ctx, "supplier", "10000")
	fill(t, ctx, "description", "Emis Web GP for three Stockton practices")
	fill(t, ctx, "commencement-day", strconv.Itoa(start.Day()))
	fill(t, ctx, "commencement-month", strconv.Itoa(int(start.Month())))
	fill(t, ctx, "commencement-year", strconv.Itoa(start.Year()))
	fill(t, ctx, "initial-period", "12")
	fill(t, ctx, "maximum-term", "36")
	click(t, ctx, `form[action="/orders"] button[type=submit]`)
	wantPath(t, ctx, base, "/orders/C010001-01")
	wantContains(t, ctx, "h1", "C010001-01")
	checkAccessibility(t, ctx, "order in progress")

	click(t, ctx, `a[href="/orders/C010001-01/items/new"]`)
	checkAccessibility(t, ctx, "add a catalogue item")
	tick(t, ctx, `input[name=item][value="10000-001"]`)
	click(t, ctx, `form[action="/orders/C010001-01/items"] button[type=submit]`)
	wantText(t, ctx, "h1", "Emis Web GP")
	checkAccessibility(t, ctx, "item page")

	fill(t, ctx, "funding", "1")
	click(t, ctx, `form[action$="/funding"] button[type=submit]`)
	wantContains(t, ctx, ".nhsuk-notification-banner", "Funding saved")
	for _, code := range []string{"A81001", "A81002", "A81004"} {
		tick(t, ctx, "#practice-"+code)
	}
	click(t, ctx, `button[name=action][value=selected]`)
	wantText(t, ctx, "h1", "Quantities and planned delivery dates")
	if n := len(texts(t, ctx, "[data-testid=recipient-row]")); n != 3 {
		t.Fatalf("%d practices to date, want 3", n)
	}
	checkAccessibility(t, ctx, "quantities and dates")

	fill(t, ctx, "all-day", strconv.Itoa(live.Day()))
	fill(t, ctx, "all-month", strconv.Itoa(int(live.Month())))
	fill(t, ctx, "all-year", strconv.Itoa(live.Year()))
	click(t, ctx, `button[name=action][value=apply-all]`)
	wantPath(t, ctx, base, "/orders/C010001-01")
	// 4,100 + 18,917 + 11,011 = 34,028 patients × £1.26 a year, for 3 years.
	wantText(t, ctx, "[data-testid=order-total]", "£128,625.84")
	checkAccessibility(t, ctx, "order ready to complete")

	click(t, ctx, `form[action="/orders/C010001-01/complete"] button[type=submit]`)
	wantContains(t, ctx, ".nhsuk-notification-banner", "is completed")
	rows := texts(t, ctx, "[data-testid=ledger] tbody tr")
	if len(rows) != 3 {
		t.Fatalf("%d service instances, want 3", len(rows))
	}
	for _, r := range rows {
		if !containsAll(r, "Planned", live.Format("2 Jan 2006")) {
			t.Errorf("service instance row %q: want Planned from %s", r, live.Format("2 Jan 2006"))
		}
	}
	checkAccessibility(t, ctx, "completed order")

	visit(t, ctx, base+"/orders/C010001-01/summary")
	wantText(t, ctx, "h1", "Call-off order C010001-01")
	checkAccessibility(t, ctx, "printable summary")
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
