package e2e

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"ccgtracker/internal/auth"
	"ccgtracker/internal/dates"
)

// TestBuyerRunsAProcurement: a buyer of 16C runs a further competition
// through the pages, from starting it to the call-off order its award
// creates: two criteria (after weights that add up to 90), a shortlist of
// two solutions found in the catalogue, scores (after completing with one
// missing), and the award (after a term that is refused) from the first of
// next month. axe checks every page on the way, error states included.
func TestBuyerRunsAProcurement(t *testing.T) {
	t.Parallel()
	base := newApp(t, nil)
	ctx := newBrowser(t)
	signIn(t, ctx, base, "buyer.16c@example.nhs.uk", auth.DemoPassword)

	visit(t, ctx, base+"/procurements")
	wantText(t, ctx, "h1", "Procurements")
	checkAccessibility(t, ctx, "procurement list")
	click(t, ctx, `a[href="/procurements/new"]`)
	wantPath(t, ctx, base, "/procurements/new")
	checkAccessibility(t, ctx, "start a procurement")

	// Start: a name is needed.
	if status := click(t, ctx, `form[action="/procurements"] button[type=submit]`); status != 400 {
		t.Errorf("starting without a name: status %d, want 400", status)
	}
	wantContains(t, ctx, ".nhsuk-error-summary", "Enter a name for the procurement")
	checkAccessibility(t, ctx, "start a procurement with errors")
	fill(t, ctx, "name", "GP clinical system 2027")
	click(t, ctx, `form[action="/procurements"] button[type=submit]`)
	wantPath(t, ctx, base, "/procurements/1")
	wantText(t, ctx, "h1", "GP clinical system 2027")
	wantContains(t, ctx, ".nhsuk-notification-banner", "Procurement started")
	wantText(t, ctx, "[data-step=prepare] .nhsuk-task-list__status", "Not started")
	wantText(t, ctx, "[data-step=review] .nhsuk-task-list__status", "Cannot start yet")
	checkAccessibility(t, ctx, "new procurement's task list")

	// Prepare: a further competition, two criteria; 60 + 30 is refused.
	click(t, ctx, `a[href="/procurements/1/prepare"]`)
	wantText(t, ctx, "h1", "Prepare")
	checkAccessibility(t, ctx, "prepare")
	tick(t, ctx, `input[name=procedure][value=further_competition_on]`)
	fill(t, ctx, "criterion-1-name", "Functionality")
	fill(t, ctx, "criterion-1-weight", "60")
	fill(t, ctx, "criterion-2-name", "Price")
	fill(t, ctx, "criterion-2-weight", "30")
	if status := click(t, ctx, `form[action="/procurements/1/prepare"] button[type=submit]`); status != 400 {
		t.Errorf("weights of 90: status %d, want 400", status)
	}
	wantContains(t, ctx, ".nhsuk-error-summary", "The weights must add up to 100: they add up to 90")
	wantContains(t, ctx, "#criteria-error", "they add up to 90")
	checkAccessibility(t, ctx, "prepare with weights adding up to 90")
	fill(t, ctx, "criterion-1-weight", "70")
	click(t, ctx, `form[action="/procurements/1/prepare"] button[type=submit]`)
	wantPath(t, ctx, base, "/procurements/1")
	wantContains(t, ctx, ".nhsuk-notification-banner", "Prepare is completed")
	wantText(t, ctx, "[data-step=prepare] .nhsuk-task-list__status", "Completed")
	checkAccessibility(t, ctx, "task list after Prepare")

	// Review Catalogue Solutions: search the catalogue, shortlist two.
	click(t, ctx, `a[href="/procurements/1/shortlist"]`)
	wantText(t, ctx, "h1", "Review Catalogue Solutions")
	checkAccessibility(t, ctx, "empty shortlist")
	for _, s := range []struct{ query, item, name string }{
		{"emis", "10000-001", "Emis Web GP"},
		{"SystmOne", "10052-002", "SystmOne GP"},
	} {
		fill(t, ctx, "q", s.query)
		click(t, ctx, `form[role=search] button[type=submit]`)
		wantPath(t, ctx, base, "/procurements/1/shortlist?q="+s.query)
		checkAccessibility(t, ctx, "catalogue search for "+s.query)
		click(t, ctx, `[data-testid=candidates] form:has(input[name=item][value="`+s.item+`"]) button[type=submit]`)
		wantContains(t, ctx, ".nhsuk-notification-banner", s.name+" is shortlisted")
		wantContains(t, ctx, "[data-testid=shortlist]", s.name)
	}
	checkAccessibility(t, ctx, "shortlist of two")
	click(t, ctx, `form[action="/procurements/1/shortlist/complete"] button[type=submit]`)
	wantPath(t, ctx, base, "/procurements/1")
	wantText(t, ctx, "[data-step=review] .nhsuk-task-list__status", "Completed")
	wantText(t, ctx, "[data-step=evaluate] .nhsuk-task-list__status", "Not started")

	// Evaluate: completing with a score missing names it; then every score.
	click(t, ctx, `a[href="/procurements/1/evaluate"]`)
	wantText(t, ctx, "h1", "Evaluate")
	checkAccessibility(t, ctx, "evaluate")
	emis := inputIDs(t, ctx, `[data-testid=score-form] input[name^="score-10000-001-"]`)
	systmOne := inputIDs(t, ctx, `[data-testid=score-form] input[name^="score-10052-002-"]`)
	if len(emis) != 2 || len(systmOne) != 2 {
		t.Fatalf("score fields: %v and %v, want two each", emis, systmOne)
	}
	fill(t, ctx, emis[0], "80")
	fill(t, ctx, emis[1], "60")
	fill(t, ctx, systmOne[0], "75")
	if status := click(t, ctx, `button[name=action][value=complete]`); status != 400 {
		t.Errorf("completing with a score missing: status %d, want 400", status)
	}
	wantContains(t, ctx, ".nhsuk-error-summary", "Enter a score for SystmOne GP against Price")
	checkAccessibility(t, ctx, "evaluate with a score missing")
	fill(t, ctx, systmOne[1], "90")
	click(t, ctx, `button[name=action][value=complete]`)
	wantPath(t, ctx, base, "/procurements/1")
	wantContains(t, ctx, ".nhsuk-notification-banner", "Evaluate is completed")
	wantText(t, ctx, "[data-step=evaluate] .nhsuk-task-list__status", "Completed")
	checkAccessibility(t, ctx, "task list after Evaluate")

	// The award offers the top-ranked first: SystmOne GP, 75×70 + 90×30 =
	// 79.50, ahead of Emis Web GP's 80×70 + 60×30 = 74.00.
	click(t, ctx, `a[href="/procurements/1/award"]`)
	wantText(t, ctx, "h1", "Call-off order form and contract award")
	ranking := texts(t, ctx, "[data-testid=ranking] [data-testid=weighted-score]")
	if strings.Join(ranking, ",") != "79.50,74.00" {
		t.Errorf("weighted scores on the award page: %q, want 79.50 then 74.00", ranking)
	}
	if checked := checkedValue(t, ctx, "winner"); checked != "10052-002" {
		t.Errorf("the award offers %q first, want the top-ranked 10052-002", checked)
	}
	checkAccessibility(t, ctx, "award")

	// From the first of next month; a maximum term no longer than the
	// initial period is refused, and no order made.
	today := dates.Today(time.Now())
	start := dates.AddMonths(today, 1).AddDate(0, 0, 1-today.Day())
	fill(t, ctx, "commencement-day", strconv.Itoa(start.Day()))
	fill(t, ctx, "commencement-month", strconv.Itoa(int(start.Month())))
	fill(t, ctx, "commencement-year", strconv.Itoa(start.Year()))
	fill(t, ctx, "initial-period", "12")
	fill(t, ctx, "maximum-term", "12")
	if status := click(t, ctx, `form[action="/procurements/1/award"] button[type=submit]`); status != 400 {
		t.Errorf("a maximum term of the initial period: status %d, want 400", status)
	}
	wantContains(t, ctx, ".nhsuk-error-summary", "Maximum term must be longer than the initial period")
	checkAccessibility(t, ctx, "award with errors")
	fill(t, ctx, "maximum-term", "36")
	click(t, ctx, `form[action="/procurements/1/award"] button[type=submit]`)

	// The order page: the order the award created, with the solution.
	wantPath(t, ctx, base, "/orders/C010001-01")
	wantContains(t, ctx, "h1", "C010001-01")
	wantContains(t, ctx, ".nhsuk-notification-banner", "order C010001-01 for SystmOne GP is created")
	wantContains(t, ctx, "[data-testid=order-details]", "GP clinical system 2027: SystmOne GP (procurement 1)")
	wantContains(t, ctx, "[data-testid=order-details]", dates.Long(start))
	checkAccessibility(t, ctx, "order created by the award")

	// Back on the procurement: awarded, the order linked.
	visit(t, ctx, base+"/procurements/1")
	wantText(t, ctx, "[data-step=award] .nhsuk-task-list__status", "Completed")
	wantText(t, ctx, "[data-step=manage] .nhsuk-task-list__status", "Not started")
	wantContains(t, ctx, "[data-testid=procurement-details]", "SystmOne GP")
	wantContains(t, ctx, "[data-testid=procurement-details]", "C010001-01")
	checkAccessibility(t, ctx, "task list after the award")
	click(t, ctx, `a[href="/procurements/1/manage"]`)
	wantText(t, ctx, "h1", "Manage your contract")
	checkAccessibility(t, ctx, "manage your contract")
}

// inputIDs returns the ids of the inputs matching css, in page order.
func inputIDs(t *testing.T, ctx context.Context, css string) []string {
	t.Helper()
	out, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll(`+jsString(css)+`)].map(e => e.id)`))
	if err != nil {
		t.Fatalf("read %s: %v", css, err)
	}
	return out
}

// checkedValue is the value of the checked radio button named name, "" when none is.
func checkedValue(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`(document.querySelector('input[type=radio][name=' + `+jsString(name)+` + ']:checked') || {value: ''}).value`))
	if err != nil {
		t.Fatalf("read the checked %s: %v", name, err)
	}
	return v
}
