package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"ccgtracker/internal/auth"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/tracker"
)

// TestReturnServicesFoundWithTheKeyboard: the buyer of this month's return
// sees at its top the planned service due to go live by the month's end,
// filters the services by state with the keyboard alone, clears the
// filters, and opens the due service's own change form from the top.
// axe-core checks every page on the way, at 1280 and at 320 px.
func TestReturnServicesFoundWithTheKeyboard(t *testing.T) {
	t.Parallel()
	base, pool := newAppWithPool(t, nil)
	ctx := context.Background()
	period := tracker.PeriodOf(dates.Today(time.Now()))
	planned, _ := scene(t, ctx, pool, period) // planned to go live on the month's first day
	returnPath := "/ccgs/16C/returns/" + period.String()

	b := newBrowser(t)
	signIn(t, b, base, "buyer.16c@example.nhs.uk", auth.DemoPassword)
	visit(t, b, base+returnPath)
	wantContains(t, b, "[data-testid=return-attention] [data-testid=attention-due]", planned)
	checkAccessibilityAtWidths(t, b, "the return with what needs attention")
	all := len(texts(t, b, "[data-testid=return-service]"))
	if all < 2 {
		t.Fatalf("the return lists %d services, want more than the planned one", all)
	}

	tabTo(t, b, "#state")
	keyChoose(t, b, "planned")
	tabTo(t, b, "form[data-testid=service-filters] button[type=submit]")
	if status := keySubmit(t, b); status != 200 {
		t.Fatalf("filtering the services: status %d", status)
	}
	if got := texts(t, b, "[data-testid=return-service] td:first-child a"); len(got) != 1 || got[0] != planned {
		t.Errorf("filtered by Planned, the return lists %v, want %s", got, planned)
	}
	if loc := location(t, b); !strings.Contains(loc, "state=planned") {
		t.Errorf("the filtered page is %s", loc)
	}
	checkAccessibilityAtWidths(t, b, "the return's services filtered by state")

	tabTo(t, b, `form[data-testid=service-filters] a[href="`+returnPath+`#services"]`)
	keySubmit(t, b)
	if n := len(texts(t, b, "[data-testid=return-service]")); n != all {
		t.Errorf("with the filters cleared the return lists %d services, want %d", n, all)
	}

	tabTo(t, b, `[data-testid=attention-due] a[href="`+returnPath+`/services/`+planned+`/report"]`)
	keySubmit(t, b)
	wantContains(t, b, "h1", planned)
}
