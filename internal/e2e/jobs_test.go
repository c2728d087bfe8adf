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

// TestAdminRunsTheNightlyJob: an admin presses "Run now", sees the run
// recorded with what it flagged, and reads the reminders in the outbox;
// the buyer of a late CCG sees the late banner. axe on every page.
func TestAdminRunsTheNightlyJob(t *testing.T) {
	t.Parallel()
	base, pool := newAppWithPool(t, nil)
	ctx := context.Background()
	// Last month's returns, issued and now past every due date.
	last := tracker.PeriodOf(dates.Today(time.Now())).Prev().Prev()
	if _, err := tracker.NewStore(pool, time.Now).Issue(ctx, org.System(), last); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	signIn(t, b, base, "admin@example.nhs.uk", auth.DemoPassword)
	visit(t, b, base+"/admin/jobs")
	checkAccessibility(t, b, "the nightly job page")
	click(t, b, `form[action="/admin/jobs/run"] button`)
	wantContains(t, b, ".nhsuk-notification-banner", "106 flagged late")
	rows := texts(t, b, "[data-testid=job-runs] tbody tr")
	if len(rows) != 1 || !strings.Contains(rows[0], "succeeded") || !strings.Contains(rows[0], "Ada Admin") {
		t.Errorf("runs: %q", rows)
	}
	checkAccessibility(t, b, "the nightly job page after a run")
	// A set-password link, emailed through the outbox: its long address
	// must wrap on a phone.
	bea := testkit.UserID(t, pool, "buyer.16c@example.nhs.uk")
	visit(t, b, base+"/admin/users/"+strconv.FormatInt(bea, 10))
	click(t, b, `form[action$="/password-link"] button`)
	visit(t, b, base+"/admin/outbox")
	wantContains(t, b, "[data-testid=message]", base+"/set-password/")
	if n := len(texts(t, b, "[data-testid=message]")); n == 0 {
		t.Error("no reminders in the outbox after the run")
	}
	checkAccessibilityAtWidths(t, b, "the outbox")

	signOut(t, b, base)
	signIn(t, b, base, "buyer.16c@example.nhs.uk", auth.DemoPassword)
	wantContains(t, b, "[data-testid=late-banner]", "days late")
	checkAccessibility(t, b, "a late buyer's dashboard")
}
