package e2e

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp/kb"
	"github.com/jackc/pgx/v5/pgxpool"

	"ccgtracker/internal/auth"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/order"
	"ccgtracker/internal/org"
	"ccgtracker/internal/testkit"
	"ccgtracker/internal/tracker"
)

// TestReturnRoundTrip is the month's return from start to end: the buyer
// fills it in with the keyboard alone (a go-live from its service's row, a
// second one refused beside the field, a cessation from the form, its date
// put right through check your answers' Change) and submits; the reviewer returns it with a comment; the buyer corrects
// it and resubmits; the reviewer accepts; the ledger has the new dates.
// axe-core checks every page on the way, at 1280 and at 320 px.
func TestReturnRoundTrip(t *testing.T) {
	t.Parallel()
	base, pool := newAppWithPool(t, nil)
	ctx := context.Background()
	// Last month's return: a return is sent once its month has ended
	// (TestReturnSentOnceItsMonthHasEnded stands on a clock in the month).
	period := tracker.PeriodOf(dates.Today(time.Now())).Prev()
	planned, live := scene(t, ctx, pool, period)
	returnPath := "/ccgs/16C/returns/" + period.String()
	goLive := period.First().AddDate(0, 0, 2)
	ceased := period.First().AddDate(0, 0, 9)
	corrected := period.First().AddDate(0, 0, 10)

	b := newBrowser(t)
	signIn(t, b, base, "buyer.16c@example.nhs.uk", auth.DemoPassword)
	visit(t, b, base+returnPath)
	checkAccessibilityAtWidths(t, b, "the buyer's return")
	if n := len(texts(t, b, "[data-testid=return-service]")); n == 0 || n > 25 {
		t.Errorf("the return lists %d services, want a page of them", n)
	}

	// With the keyboard alone: the activation, found in the services and
	// reported from its row, on a form offering what a planned service
	// may do...
	keySearch(t, b, planned)
	checkAccessibilityAtWidths(t, b, "the return's services searched")
	report := `[data-testid=return-service] a[href$="/services/` + planned + `/report"]`
	tabTo(t, b, report)
	keySubmit(t, b)
	wantContains(t, b, "h1", planned)
	checkAccessibilityAtWidths(t, b, "a service's own change form")
	if got := strings.Join(texts(t, b, "input[name=kind] + label"), "; "); got != "Activation (went live); Migration to this service; Cancellation" {
		t.Errorf("a planned service offers %q", got)
	}
	keyKindDate(t, b, 0, goLive, "main form[data-testid=line-form] button[type=submit]")
	wantContains(t, b, ".nhsuk-notification-banner", "added")
	// ...a second go-live of it refused at once, beside the choice, naming
	// the change it contradicts...
	visit(t, b, base+returnPath+"?q="+planned)
	tabTo(t, b, report)
	keySubmit(t, b)
	tabTo(t, b, "#kind")
	keys(t, b, " ")
	tabTo(t, b, "#date-day")
	keys(t, b, strconv.Itoa(goLive.Day()+1))
	tabTo(t, b, "#date-month")
	keys(t, b, strconv.Itoa(int(goLive.Month())))
	tabTo(t, b, "#date-year")
	keys(t, b, strconv.Itoa(goLive.Year()))
	tabTo(t, b, "main form[data-testid=line-form] button[type=submit]")
	if status := keySubmit(t, b); status != 400 {
		t.Errorf("a second go-live: status %d, want 400", status)
	}
	wantContains(t, b, "#kind-error", planned+" already goes live in change 1")
	checkAccessibilityAtWidths(t, b, "a contradiction refused")
	// ...and the cessation from the form, its practice first (the third
	// kind: two presses of the down arrow).
	visit(t, b, base+returnPath)
	keyPractice(t, b, "a81001")
	keyLine(t, b, 2, "cessation", live, ceased)
	if n := len(texts(t, b, "[data-testid=return-line]")); n != 2 {
		t.Fatalf("%d lines on the return, want 2", n)
	}
	checkAccessibilityAtWidths(t, b, "the return with two changes")
	// The cessation's date put right through check your answers' Change.
	visit(t, b, base+returnPath+"/check")
	checkAccessibilityAtWidths(t, b, "check your answers")
	tabTo(t, b, `[data-testid=check-answers] [data-kind=cessation] a[href$="/edit"]`)
	keySubmit(t, b)
	wantContains(t, b, "h1", "Change 2")
	checkAccessibilityAtWidths(t, b, "a change edited")
	tabTo(t, b, "#date-day")
	keys(t, b, kb.End+kb.Backspace+kb.Backspace+strconv.Itoa(ceased.Day()+1))
	tabTo(t, b, "main form[data-testid=line-form] button[type=submit]")
	if status := keySubmit(t, b); status != 200 {
		t.Fatalf("saving the edit: status %d: %q", status, texts(t, b, ".nhsuk-error-summary"))
	}
	wantPath(t, b, base, returnPath+"/check")
	wantContains(t, b, "[data-testid=check-answers] [data-kind=cessation]", dates.Long(ceased.AddDate(0, 0, 1)))
	visit(t, b, base+returnPath)
	tabTo(t, b, `a[href="`+returnPath+`/check"]`)
	keySubmit(t, b)
	wantPath(t, b, base, returnPath+"/check")
	checkAccessibilityAtWidths(t, b, "check your answers, again")
	tabTo(t, b, `form[action="`+returnPath+`/submit"] button`)
	keySubmit(t, b)
	wantContains(t, b, "h1 .nhsuk-tag", "Submitted")
	signOut(t, b, base)

	// The reviewer sends it back with a comment.
	signIn(t, b, base, "reviewer@example.nhs.uk", auth.DemoPassword)
	visit(t, b, base+"/returns?period="+period.String())
	checkAccessibilityAtWidths(t, b, "every CCG's return")
	visit(t, b, base+returnPath+"/review")
	checkAccessibilityAtWidths(t, b, "the review page")
	fill(t, b, "comment", "Was the cessation not on the "+strconv.Itoa(corrected.Day())+"th?")
	click(t, b, `form[action="`+returnPath+`/return"] button[type=submit]`)
	wantContains(t, b, "h1 .nhsuk-tag", "Returned")
	signOut(t, b, base)

	// The buyer reads it, replaces the cessation and submits again.
	signIn(t, b, base, "buyer.16c@example.nhs.uk", auth.DemoPassword)
	visit(t, b, base+returnPath)
	wantContains(t, b, "[data-testid=review-comment]", "Was the cessation not on the")
	checkAccessibilityAtWidths(t, b, "the returned return")
	click(t, b, `[data-testid=return-line][data-kind=cessation] a[href$="/delete"]`)
	checkAccessibilityAtWidths(t, b, "a change's removal confirmed")
	click(t, b, `main form button[type=submit]`)
	keyPractice(t, b, "A81001")
	keyLine(t, b, 2, "cessation", live, corrected)
	visit(t, b, base+returnPath+"/check")
	click(t, b, `form[action="`+returnPath+`/submit"] button`)
	wantContains(t, b, "h1 .nhsuk-tag", "Submitted")
	signOut(t, b, base)

	// The reviewer accepts: the ledger takes the dates.
	signIn(t, b, base, "reviewer@example.nhs.uk", auth.DemoPassword)
	visit(t, b, base+returnPath+"/versions")
	checkAccessibilityAtWidths(t, b, "the submitted versions")
	visit(t, b, base+returnPath+"/review")
	click(t, b, `form[action="`+returnPath+`/accept"] button`)
	wantContains(t, b, "h1 .nhsuk-tag", "Accepted")
	checkAccessibilityAtWidths(t, b, "the accepted return")

	var state, m1, cessation string
	if err := pool.QueryRow(ctx, `SELECT state, coalesce(actual_m1::text, '') FROM service_instances WHERE 'SI' || id || '-' || practice_code = $1`, planned).Scan(&state, &m1); err != nil {
		t.Fatal(err)
	}
	if state != "active" || m1 != goLive.Format(time.DateOnly) {
		t.Errorf("%s after acceptance: %s from %q, want active from %s", planned, state, m1, goLive.Format(time.DateOnly))
	}
	if err := pool.QueryRow(ctx, `SELECT state, coalesce(cessation_date::text, '') FROM service_instances WHERE 'SI' || id || '-' || practice_code = $1`, live).Scan(&state, &cessation); err != nil {
		t.Fatal(err)
	}
	if state != "ceased" || cessation != corrected.Format(time.DateOnly) {
		t.Errorf("%s after acceptance: %s on %q, want ceased on %s (the corrected date)", live, state, cessation, corrected.Format(time.DateOnly))
	}
	visit(t, b, base+"/ccgs/16C/services?practice=A81002")
	checkAccessibilityAtWidths(t, b, "the ledger after acceptance")
}

// keySearch searches the return's services with the keyboard alone.
func keySearch(t *testing.T, ctx context.Context, q string) {
	t.Helper()
	tabTo(t, ctx, "#q")
	keys(t, ctx, q)
	if status := keySubmit(t, ctx); status != 200 {
		t.Fatalf("searching the services: status %d", status)
	}
	if got := texts(t, ctx, "[data-testid=return-service]"); len(got) != 1 {
		t.Fatalf("searching the services for %s finds %d", q, len(got))
	}
}

// keyPractice chooses the practice of the add-a-change form with the
// keyboard alone: its code typed, then Enter.
func keyPractice(t *testing.T, ctx context.Context, code string) {
	t.Helper()
	tabTo(t, ctx, "#practice")
	keys(t, ctx, code)
	if status := keySubmit(t, ctx); status != 200 {
		t.Fatalf("choosing the practice %s: status %d", code, status)
	}
	wantContains(t, ctx, "dl[data-testid=line-practice]", "("+strings.ToUpper(code)+")")
}

// keyLine adds a change with the keyboard alone, once the practice is
// chosen: the kind (the nth radio, reached with the arrow keys), the
// service it reveals, the date, then Enter.
func keyLine(t *testing.T, ctx context.Context, n int, kind, service string, d time.Time) {
	t.Helper()
	tabTo(t, ctx, "#kind")
	for range n {
		keys(t, ctx, kb.ArrowDown)
	}
	keys(t, ctx, " ")
	tabTo(t, ctx, "#"+kind+"-instance")
	keyChoose(t, ctx, service)
	keyDate(t, ctx, d, "[data-testid=add-line] button[type=submit]")
}

// keyKindDate reports a change on a service's own form with the keyboard
// alone: the nth kind, the date, then Enter on submit.
func keyKindDate(t *testing.T, ctx context.Context, n int, d time.Time, submit string) {
	t.Helper()
	tabTo(t, ctx, "#kind")
	for range n {
		keys(t, ctx, kb.ArrowDown)
	}
	keys(t, ctx, " ")
	keyDate(t, ctx, d, submit)
}

func keyDate(t *testing.T, ctx context.Context, d time.Time, submit string) {
	t.Helper()
	tabTo(t, ctx, "#date-day")
	keys(t, ctx, strconv.Itoa(d.Day()))
	tabTo(t, ctx, "#date-month")
	keys(t, ctx, strconv.Itoa(int(d.Month())))
	tabTo(t, ctx, "#date-year")
	keys(t, ctx, strconv.Itoa(d.Year()))
	tabTo(t, ctx, submit)
	if status := keySubmit(t, ctx); status != 200 {
		t.Fatalf("adding a change with the keyboard: status %d: %q", status, texts(t, ctx, ".nhsuk-error-summary"))
	}
}

// scene sets up the month: an order of 16C whose service at A81002 is
// planned from the period's first day, and the return issued. It returns
// that planned service and a live continuity service of A81001.
func scene(t *testing.T, ctx context.Context, pool *pgxpool.Pool, p tracker.Period) (planned, live string) {
	t.Helper()
	now := time.Now()
	scope := org.AllCCGs()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	orders := order.NewStore(pool, func() time.Time { return now })
	o, err := orders.Create(ctx, org.Actor{Scope: scope}, order.Details{CCGCode: "16C", SupplierID: "10000",
		Description: "Anywhere Consult", Commencement: p.First(), InitialPeriod: 12, MaximumTerm: 24})
	must(err)
	id := o.CallOffID()
	_, err = orders.AddItem(ctx, org.Actor{Scope: scope}, id, o.Version, "10000-002")
	must(err)
	o, _ = order.Get(ctx, pool, scope, id)
	must(orders.SetFunding(ctx, org.Actor{Scope: scope}, id, o.Version, o.Items[0].ID, 1))
	o, _ = order.Get(ctx, pool, scope, id)
	first := p.First()
	must(orders.SaveRecipients(ctx, org.Actor{Scope: scope}, id, o.Version, o.Items[0].ID, []order.RecipientInput{{Practice: "A81002", PlannedDelivery: &first}}))
	o, _ = order.Get(ctx, pool, scope, id)
	must(orders.Complete(ctx, org.Actor{Scope: scope}, id, o.Version))
	_, err = tracker.NewStore(pool, testkit.NewClock(now).Now).Issue(ctx, org.System(), p)
	must(err)
	must(pool.QueryRow(ctx, `SELECT 'SI' || id || '-' || practice_code FROM service_instances WHERE order_id IS NOT NULL`).Scan(&planned))
	must(pool.QueryRow(ctx, `SELECT 'SI' || id || '-' || practice_code FROM service_instances WHERE agreement_id IS NOT NULL AND practice_code = 'A81001'`).Scan(&live))
	return planned, live
}
