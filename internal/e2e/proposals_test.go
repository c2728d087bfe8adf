package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5/pgxpool"

	"ccgtracker/internal/auth"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/org"
	"ccgtracker/internal/testkit"
	"ccgtracker/internal/tracker"
)

// closeByODS imports an ODS file in which SPRINGWOOD SURGERY (A81005), a
// practice of 16C with live services, closed on the day given.
func closeByODS(t *testing.T, pool *pgxpool.Pool, now, closed time.Time) {
	t.Helper()
	row := `"A81005","SPRINGWOOD SURGERY","Y63","Q74","","","","","","TS14 7DJ","19740401","` + closed.Format("20060102") +
		`","C","B","16C","20130401","","","","","","0","","16C","","4",""` + "\n"
	if _, _, made, err := tracker.NewStore(pool, testkit.NewClock(now).Now).ImportODS(context.Background(), org.System(), "epraccur.csv", strings.NewReader(row)); err != nil || made != 1 {
		t.Fatalf("ODS import: %d proposals (%v)", made, err)
	}
}

// TestBuyerConfirmsAProposedChange: an ODS import closed a practice with
// live services; the buyer finds the proposal on the month's return,
// forgets to choose the kind, chooses a cessation, and the return has its
// lines with the date filled in; the reviewer sees what became of it.
// axe-core checks each page at 1280 and 320 px.
func TestBuyerConfirmsAProposedChange(t *testing.T) {
	t.Parallel()
	base, pool := newAppWithPool(t, nil)
	ctx := context.Background()
	now := time.Now()
	today := dates.Today(now)
	period := tracker.PeriodOf(today)
	if _, err := tracker.NewStore(pool, testkit.NewClock(now).Now).Issue(ctx, org.System(), period); err != nil {
		t.Fatal(err)
	}
	closed := period.First() // the first of the month: the lines fall in it
	closeByODS(t, pool, now, closed)
	returnPath := "/ccgs/16C/returns/" + period.String()

	b := newBrowser(t)
	signIn(t, b, base, "buyer.16c@example.nhs.uk", auth.DemoPassword)
	visit(t, b, base+returnPath)
	wantContains(t, b, "[data-testid=proposal]", "ODS shows SPRINGWOOD SURGERY (A81005) closed on "+dates.Long(closed)+": report a merger or a cessation")
	checkAccessibilityAtWidths(t, b, "the return with a proposed change")

	if status := click(t, b, "[data-testid=proposal] a"); status != 200 {
		t.Fatalf("the proposal's page: %d", status)
	}
	checkAccessibilityAtWidths(t, b, "the proposed change's page")
	next := closed.AddDate(0, 0, 1)
	for id, want := range map[string]string{"date-day": next.Format("2"), "date-month": next.Format("1"), "date-year": next.Format("2006")} {
		if got := value(t, b, id); got != want {
			t.Errorf("#%s is %q, want %q: the date is filled in as the first day without service", id, got, want)
		}
	}
	tick(t, b, "#kind") // a merger...
	checkAccessibilityAtWidths(t, b, "the proposed change's page, merger chosen")
	// No kind chosen: the NHS error summary, the message by the field.
	if _, err := chromedp.Run(b, chromedp.Evaluate[bool](`(() => { document.getElementById('kind').checked = false; return true })()`)); err != nil {
		t.Fatal(err)
	}
	// ...then thought better of: nothing chosen.
	if status := click(t, b, "#confirm"); status != 422 {
		t.Errorf("confirming with no kind: %d, want 422", status)
	}
	wantContains(t, b, ".nhsuk-error-summary", "Select the kind of change to report")
	wantContains(t, b, "#kind-error", "Select the kind of change to report")
	checkAccessibilityAtWidths(t, b, "the proposed change's page with a problem")

	tick(t, b, "#kind-2") // cessation
	if status := click(t, b, "#confirm"); status != 200 {
		t.Fatalf("confirming a cessation: %d", status)
	}
	wantPath(t, b, base, returnPath)
	wantContains(t, b, ".nhsuk-notification-banner", "at A81005 added to the return")
	var at []string
	for _, l := range texts(t, b, "[data-testid=return-line]") {
		if strings.Contains(l, "A81005") {
			at = append(at, l)
		}
	}
	if len(at) == 0 || !strings.Contains(at[0], dates.Long(next)) {
		t.Errorf("the return's lines at A81005: %q, want a cessation on %s", at, dates.Long(next))
	}
	wantContains(t, b, "[data-testid=proposal-outcome]", "Reported as a cessation by")
	checkAccessibilityAtWidths(t, b, "the return after the proposal was reported")

	signOut(t, b, base)
	signIn(t, b, base, "reviewer@example.nhs.uk", auth.DemoPassword)
	visit(t, b, base+returnPath)
	wantContains(t, b, "[data-testid=proposal-outcome]", "Reported as a cessation by")
	checkAccessibilityAtWidths(t, b, "the reviewer's return with a decided proposal")
}

// TestAdminImportsListSizesWithProgress: the admin uploads the national
// list-size file through the page (the script sends it with its progress)
// and lands on the report; a malformed file shows every bad row.
func TestAdminImportsListSizesWithProgress(t *testing.T) {
	t.Parallel()
	base, _ := newAppWithPool(t, nil)
	national, err := filepath.Abs(filepath.Join("..", "refdata", "data", "gp-reg-pat-prac-all.csv"))
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	signIn(t, b, base, "admin@example.nhs.uk", auth.DemoPassword)
	visit(t, b, base+"/admin/imports/list-sizes")
	checkAccessibilityAtWidths(t, b, "the list-size upload")
	if err := chromedp.Do(b, chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{national})); err != nil {
		t.Fatal(err)
	}
	// The script sends the file itself, so no page loads until the
	// import is done: the report is waited for, not a navigation.
	if err := chromedp.Do(b, chromedp.Click(chromedp.CSS("#import")), chromedp.WaitVisible(chromedp.CSS("[data-testid=import-report]"))); err != nil {
		t.Fatalf("upload: %v (at %s)", err, location(t, b))
	}
	wantText(t, b, "h1", "List sizes of 1 January 2021 imported")
	wantContains(t, b, "[data-testid=import-report]", "6,523")
	checkAccessibilityAtWidths(t, b, "the list-size import's report")

	bad := filepath.Join(t.TempDir(), "bad.csv")
	if err := os.WriteFile(bad, []byte("PUBLICATION,EXTRACT_DATE,TYPE,CCG_CODE,ONS_CCG_CODE,CODE,POSTCODE,SEX,AGE,NUMBER_OF_PATIENTS\n"+
		"GP_PRAC_PAT_LIST,01FEB2021,GP,16C,E38000247,A81001,TS18 1HU,ALL,ALL,lots\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	visit(t, b, base+"/admin/imports/list-sizes")
	if err := chromedp.Do(b, chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{bad})); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(b, chromedp.Click(chromedp.CSS("#import")), chromedp.WaitVisible(chromedp.CSS("[data-testid=upload-problems]"))); err != nil {
		t.Fatalf("bad upload: %v", err)
	}
	wantContains(t, b, "[data-testid=upload-problems]", `"lots" is not a whole number of patients`)
	checkAccessibilityAtWidths(t, b, "the list-size upload with problems")
	visit(t, b, base+"/admin/imports")
	wantContains(t, b, "[data-testid=list-size-imports]", "gp-reg-pat-prac-all.csv")
	checkAccessibilityAtWidths(t, b, "the history of imports")
}

// value is the value of the field with this id.
func value(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById(`+jsString(id)+`).value`))
	if err != nil {
		t.Fatalf("value of #%s: %v", id, err)
	}
	return v
}
