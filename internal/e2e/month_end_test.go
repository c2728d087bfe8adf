package e2e

import (
	"context"
	"testing"
	"time"

	"ccgtracker/internal/auth"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/org"
	"ccgtracker/internal/server"
	"ccgtracker/internal/testkit"
	"ccgtracker/internal/tracker"
)

// TestReturnSentOnceItsMonthHasEnded stands on an injected clock on the
// 20th of a month: the buyer's draft takes a change, but the return page
// and check your answers say from when it can be sent and offer no way to
// send it. On the 1st of the next month (London) the buyer comes back,
// submits, and the reviewer accepts. axe-core checks each page at both
// widths.
func TestReturnSentOnceItsMonthHasEnded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	period := tracker.PeriodOf(dates.Today(time.Now())).Prev()
	clock := testkit.NewClock(time.Date(period.First().Year(), period.First().Month(), 20, 10, 0, 0, 0, dates.London))
	base, pool := newAppWithPool(t, nil, server.WithClock(clock.Now))
	planned, _ := scene(t, ctx, pool, period)
	returnPath := "/ccgs/16C/returns/" + period.String()
	from := dates.Long(period.Next().First())

	// During the month the draft takes a change.
	scope := org.OnlyCCG("16C")
	r, err := tracker.Get(ctx, pool, scope, "16C", period)
	if err != nil {
		t.Fatal(err)
	}
	if err := tracker.NewStore(pool, clock.Now).AddLine(ctx, org.Actor{Scope: scope}, "16C", period, r.Version,
		tracker.LineInput{Kind: tracker.Activation, Practice: "A81002", Instance: planned, Date: period.First().AddDate(0, 0, 2)}); err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t)
	signIn(t, b, base, "buyer.16c@example.nhs.uk", auth.DemoPassword)
	visit(t, b, base+returnPath)
	wantContains(t, b, "[data-testid=submit-from]", "You can submit this return from "+from)
	checkAccessibilityAtWidths(t, b, "the return before its month has ended")
	visit(t, b, base+returnPath+"/check")
	wantContains(t, b, "[data-testid=submit-from]", "You can submit this return from "+from)
	if n := len(texts(t, b, `form[action="`+returnPath+`/submit"] button`)); n != 0 {
		t.Errorf("check your answers on the 20th offers %d submit buttons", n)
	}
	checkAccessibilityAtWidths(t, b, "check your answers before the month has ended")

	// On the 1st of the next month, London time, it can be sent. The
	// weeks in between outlast the session, so the buyer signs in again.
	next := period.Next().First()
	clock.Set(time.Date(next.Year(), next.Month(), 1, 9, 0, 0, 0, dates.London))
	if got := dates.Today(clock.Now()); !got.Equal(period.Next().First()) {
		t.Fatalf("the clock stands on %s", got)
	}
	signIn(t, b, base, "buyer.16c@example.nhs.uk", auth.DemoPassword)
	visit(t, b, base+returnPath+"/check")
	if n := len(texts(t, b, "[data-testid=submit-from]")); n != 0 {
		t.Errorf("check your answers on the 1st still says when it can be sent")
	}
	checkAccessibilityAtWidths(t, b, "check your answers once the month has ended")
	tabTo(t, b, `form[action="`+returnPath+`/submit"] button`)
	keySubmit(t, b)
	wantContains(t, b, "h1 .nhsuk-tag", "Submitted")
	signOut(t, b, base)

	signIn(t, b, base, "reviewer@example.nhs.uk", auth.DemoPassword)
	visit(t, b, base+returnPath+"/review")
	click(t, b, `form[action="`+returnPath+`/accept"] button`)
	wantContains(t, b, "h1 .nhsuk-tag", "Accepted")
	checkAccessibilityAtWidths(t, b, "the return accepted on the 1st")
}
