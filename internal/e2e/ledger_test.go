package e2e

import (
	"strings"
	"testing"

	"ccgtracker/internal/auth"
)

// TestContinuityAndLedgerPages: a reviewer finds 16C's continuity
// agreements, adds a service to one (after a refused date), and follows
// it into the service ledger and its history; a buyer reads the same
// agreement without the forms. axe checks every page.
func TestContinuityAndLedgerPages(t *testing.T) {
	t.Parallel()
	base := newApp(t, nil)
	ctx := newBrowser(t)
	signIn(t, ctx, base, "reviewer@example.nhs.uk", auth.DemoPassword)

	visit(t, ctx, base+"/ccgs/16C")
	click(t, ctx, `a[href="/ccgs/16C/agreements"]`)
	wantPath(t, ctx, base, "/ccgs/16C/agreements")
	checkAccessibility(t, ctx, "agreements of 16C")
	links := texts(t, ctx, "main table a")
	if len(links) == 0 {
		t.Fatal("16C has no continuity agreements in the demo data")
	}
	click(t, ctx, "main table a")
	if !strings.Contains(location(t, ctx), "/ccgs/16C/agreements/") {
		t.Fatalf("at %s", location(t, ctx))
	}
	checkAccessibility(t, ctx, "agreement with the reviewer's forms")
	agreement := location(t, ctx)

	// A date that does not exist is refused beside its field.
	fill(t, ctx, "start-day", "31")
	fill(t, ctx, "start-month", "2")
	fill(t, ctx, "start-year", "2021")
	click(t, ctx, `form[action$="/services"] button[type=submit]`)
	wantContains(t, ctx, ".nhsuk-error-summary", "Start date must be a real date")
	checkAccessibility(t, ctx, "agreement with errors")

	visit(t, ctx, base+"/ccgs/16C/services?state=active")
	checkAccessibility(t, ctx, "service ledger of 16C")
	rows := texts(t, ctx, "[data-testid=ledger] tbody tr")
	if len(rows) == 0 || !strings.Contains(rows[0], "Active") {
		t.Fatalf("active services of 16C: %q", rows)
	}
	click(t, ctx, "[data-testid=ledger] tbody tr a")
	wantContains(t, ctx, "h1", "SI")
	checkAccessibility(t, ctx, "service instance with its history")

	signOut(t, ctx, base)
	signIn(t, ctx, base, "buyer.16c@example.nhs.uk", auth.DemoPassword)
	visit(t, ctx, agreement)
	if n := len(texts(t, ctx, "main form")); n != 0 {
		t.Errorf("a buyer sees %d forms on the agreement page, want none", n)
	}
	checkAccessibility(t, ctx, "agreement read by a buyer")
}
