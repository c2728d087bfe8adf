package e2e

import (
	"testing"
	"time"

	"ccgtracker/internal/auth"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/tracker"
)

// TestReconciliationFinance is finance reconciling last month: from the
// menu to the months, the month's totals and lines, one line explained,
// and closing the month through its confirmation page, each page checked
// with axe-core. The demo continuity services (live and verified since
// 2020) give last month its lines.
func TestReconciliationFinance(t *testing.T) {
	t.Parallel()
	base, _ := newAppWithPool(t, nil)
	last := tracker.PeriodOf(dates.Today(time.Now())).Prev()

	b := newBrowser(t)
	signIn(t, b, base, "finance@example.nhs.uk", auth.DemoPassword)
	clickMenu(t, b, "/reconciliation")
	wantPath(t, b, base, "/reconciliation")
	wantText(t, b, "h1", "Reconciliation")
	wantContains(t, b, `[data-testid=recon-months] tr[data-row="`+last.String()+`"] [data-testid=state]`, "Ended, ready to close")
	checkAccessibility(t, b, "Reconciliation, the months")

	click(t, b, `[data-testid=recon-months] tr[data-row="`+last.String()+`"] a`)
	wantPath(t, b, base, "/reconciliation/"+last.String())
	wantText(t, b, "h1", last.Name())
	wantContains(t, b, `[data-testid=recon-suppliers] tr[data-row="All"] [data-testid=payable]`, "£")
	checkAccessibility(t, b, "Reconciliation, one month")

	click(t, b, `[data-testid=recon-lines] tbody tr a`)
	wantContains(t, b, "h1", "Service SI")
	wantContains(t, b, `[data-testid=explanation]`, "a month; active 1–")
	wantContains(t, b, `[data-testid=explanation]`, "payable: M2 on")
	checkAccessibility(t, b, "Reconciliation, a line explained")

	visit(t, b, base+"/reconciliation/"+last.String())
	click(t, b, `[data-testid=close-link]`)
	wantPath(t, b, base, "/reconciliation/"+last.String()+"/close")
	wantText(t, b, "h1", "Close "+last.Name())
	wantContains(t, b, `[data-testid=close-warning]`, "Closing cannot be undone")
	checkAccessibility(t, b, "Reconciliation, closing a month")

	click(t, b, `#close`)
	wantPath(t, b, base, "/reconciliation/"+last.String())
	wantContains(t, b, `[data-testid=month-state]`, "Closed on")
	wantContains(t, b, `[data-testid=month-state]`, "by Fin Finance")
	checkAccessibility(t, b, "Reconciliation, a closed month")
}
