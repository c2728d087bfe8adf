package server

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"ccgtracker/internal/dates"
	"ccgtracker/internal/order"
	"ccgtracker/internal/org"
	"ccgtracker/internal/procurement"
)

// newProcurement starts a procurement through the form and returns its path.
func newProcurement(t *testing.T, c *client, form url.Values) string {
	t.Helper()
	resp := c.post("/procurements", form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("start procurement: %d %s", resp.StatusCode, doc(t, resp).Find(".nhsuk-error-summary").Text())
	}
	return resp.Header.Get("Location")
}

// taskStatus is the status the task list shows for a step.
func taskStatus(d *goquery.Document, step string) string {
	return strings.TrimSpace(d.Find("[data-step=" + step + "] .nhsuk-task-list__status").Text())
}

// scoreField is the Evaluate form's input for a solution and the
// criterion in that column (0-based), read from the form itself.
func scoreFields(t *testing.T, d *goquery.Document, item string) []string {
	t.Helper()
	var names []string
	d.Find("[data-testid=score-form] input[name^='score-" + item + "-']").Each(func(_ int, s *goquery.Selection) {
		n, _ := s.Attr("name")
		names = append(names, n)
	})
	return names
}

func TestBuyerRunsAProcurementToItsOrder(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, nil)
	buyer := app.client()
	buyer.signIn("buyer.16c@example.nhs.uk")

	wantStatus(t, buyer.get("/procurements/new"), http.StatusOK)
	// A buyer's procurement is for their CCG whatever the form says.
	path := newProcurement(t, buyer, url.Values{"name": {"GP clinical system 2027"}, "ccg": {"03Q"}})
	var ccg string
	if err := app.pool.QueryRow(context.Background(), `SELECT ccg_code FROM procurements`).Scan(&ccg); err != nil || ccg != "16C" {
		t.Fatalf("procurement CCG %q (%v)", ccg, err)
	}
	d := doc(t, buyer.get(path))
	if flash := d.Find(".nhsuk-notification-banner").Text(); !strings.Contains(flash, "Procurement started") {
		t.Errorf("flash after starting: %q", flash)
	}
	if n := d.Find("ul.nhsuk-task-list li.nhsuk-task-list__item").Length(); n != 5 {
		t.Errorf("%d steps in the task list", n)
	}
	if got := taskStatus(d, "prepare"); got != "Not started" {
		t.Errorf("prepare: %q", got)
	}
	if got := taskStatus(d, "review"); got != "Cannot start yet" || d.Find("[data-step=review] a").Length() != 0 {
		t.Errorf("review before Prepare: %q, linked %v", got, d.Find("[data-step=review] a").Length() > 0)
	}

	// Prepare: a further competition with three criteria.
	resp := buyer.post(path+"/prepare", url.Values{"version": {versionOf(t, buyer, path+"/prepare")}, "procedure": {"further_competition_on"},
		"criterion-1-name": {"Functionality"}, "criterion-1-weight": {"45"},
		"criterion-2-name": {"Price"}, "criterion-2-weight": {"35"},
		"criterion-3-name": {"Support"}, "criterion-3-weight": {"20"}})
	wantRedirect(t, resp, path)

	// Review Catalogue Solutions: search, shortlist three, complete.
	d = doc(t, buyer.get(path+"/shortlist?q=emis"))
	if d.Find("[data-testid=candidates] input[name=item][value='10000-001']").Length() != 1 {
		t.Fatal("searching for emis offers no Emis Web GP to shortlist")
	}
	if d.Find("[data-testid=candidates] input[name=item][value='10000-001A001']").Length() != 0 {
		t.Error("an Additional Service is offered for the shortlist")
	}
	for _, item := range []string{"10000-001", "10052-002", "10030-001"} {
		resp = buyer.post(path+"/shortlist", url.Values{"version": {versionOf(t, buyer, path+"/shortlist")}, "item": {item}, "q": {"emis"}})
		wantRedirect(t, resp, path+"/shortlist?q=emis")
	}
	wantRedirect(t, buyer.post(path+"/shortlist/complete", url.Values{"version": {versionOf(t, buyer, path+"/shortlist")}}), path)

	// Evaluate: every score, then complete; the ranking as computed by hand.
	d = doc(t, buyer.get(path+"/evaluate"))
	v, _ := d.Find("input[name=version]").Attr("value")
	form := url.Values{"version": {v}, "action": {"complete"}}
	scores := map[string][]string{
		"10000-001": {"80", "61", "93"}, // 36.00 + 21.35 + 18.60 = 75.95
		"10052-002": {"77", "70", "88"}, // 34.65 + 24.50 + 17.60 = 76.75
		"10030-001": {"90", "45", "58"}, // 40.50 + 15.75 + 11.60 = 67.85
	}
	for item, s := range scores {
		fields := scoreFields(t, d, item)
		if len(fields) != 3 {
			t.Fatalf("%s has %d score fields", item, len(fields))
		}
		for i, f := range fields {
			form.Set(f, s[i])
		}
	}
	wantRedirect(t, buyer.post(path+"/evaluate", form), path)
	d = doc(t, buyer.get(path+"/evaluate"))
	var ranking []string
	d.Find("[data-testid=ranking] tbody tr").Each(func(_ int, s *goquery.Selection) {
		item, _ := s.Attr("data-item")
		ranking = append(ranking, item+" "+strings.TrimSpace(s.Find("[data-testid=weighted-score]").Text()))
	})
	if want := "10052-002 76.75,10000-001 75.95,10030-001 67.85"; strings.Join(ranking, ",") != want {
		t.Errorf("ranking %v, want %s", ranking, want)
	}

	// The award offers the top-ranked first and creates the order.
	d = doc(t, buyer.get(path+"/award"))
	if checked, _ := d.Find("input[name=winner][checked]").Attr("value"); checked != "10052-002" {
		t.Errorf("award form offers %q first, want the top-ranked 10052-002", checked)
	}
	v, _ = d.Find("input[name=version]").Attr("value")
	resp = buyer.post(path+"/award", url.Values{"version": {v}, "winner": {"10052-002"},
		"commencement-day": {"1"}, "commencement-month": {"12"}, "commencement-year": {"2026"},
		"initial-period": {"12"}, "maximum-term": {"36"}})
	wantRedirect(t, resp, "/orders/C010001-01")
	d = doc(t, buyer.get("/orders/C010001-01"))
	if flash := d.Find(".nhsuk-notification-banner").Text(); !strings.Contains(flash, "order C010001-01 for SystmOne GP is created") {
		t.Errorf("flash after the award: %q", flash)
	}
	if details := d.Find("[data-testid=order-details]").Text(); !strings.Contains(details, "GP clinical system 2027: SystmOne GP") {
		t.Errorf("order details: %q", details)
	}
	// Awarding again with the same version changes nothing.
	wantStatus(t, buyer.post(path+"/award", url.Values{"version": {v}, "winner": {"10052-002"},
		"commencement-day": {"1"}, "commencement-month": {"12"}, "commencement-year": {"2026"},
		"initial-period": {"12"}, "maximum-term": {"36"}}), http.StatusConflict)

	d = doc(t, buyer.get(path))
	if got := taskStatus(d, "award"); got != "Completed" {
		t.Errorf("award: %q", got)
	}
	if hint := d.Find("#step-award-hint").Text(); hint != "Completed by Bea Buyer on 24 November 2026 at 10:00" {
		t.Errorf("award hint %q", hint)
	}

	// Manage your contract: waits for the order to be completed.
	d = doc(t, buyer.get(path+"/manage"))
	if d.Find("a[href='/orders/C010001-01']").Length() == 0 {
		t.Error("Manage your contract does not link to the order")
	}
	if d.Find("form[action$='/manage']").Length() != 0 {
		t.Error("Manage your contract can be completed before the order is")
	}
	// Posted anyway (an old page), it is refused and says why.
	p, err := procurement.Get(context.Background(), app.pool, org.AllCCGs(), 1)
	if err != nil {
		t.Fatal(err)
	}
	resp = buyer.post(path+"/manage", url.Values{"version": {strconv.Itoa(p.Version)}})
	wantStatus(t, resp, http.StatusConflict)
	if msg := doc(t, resp).Find("main").Text(); !strings.Contains(msg, "Complete order C010001-01 before Manage your contract") {
		t.Errorf("manage before the order: %q", msg)
	}

	completeOrder(t, app, "C010001-01")
	d = doc(t, buyer.get(path+"/manage"))
	if n := d.Find("[data-testid=ledger] tbody tr").Length(); n != 1 {
		t.Errorf("%d service instances on Manage your contract, want 1", n)
	}
	v, _ = d.Find("form[action$='/manage'] input[name=version]").Attr("value")
	wantRedirect(t, buyer.post(path+"/manage", url.Values{"version": {v}}), path)
	d = doc(t, buyer.get(path))
	for _, step := range []string{"prepare", "review", "evaluate", "award", "manage"} {
		if got := taskStatus(d, step); got != "Completed" {
			t.Errorf("%s: %q at the end", step, got)
		}
	}
	list := doc(t, buyer.get("/procurements")).Find("[data-testid=procurement-list] tbody tr")
	if list.Length() != 1 || !strings.Contains(list.Text(), "Finished") || !strings.Contains(list.Text(), "Further Competition (on-catalogue)") {
		t.Errorf("list: %q", list.Text())
	}
}

// completeOrder funds the order's solution, gives it one practice and a
// date, and signs it, as the order pages would.
func completeOrder(t *testing.T, app *testApp, callOff string) {
	t.Helper()
	ctx, scope := context.Background(), org.OnlyCCG("16C")
	get := func() order.Order {
		o, err := order.Get(ctx, app.pool, scope, callOff)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	it := get().Items[0]
	if err := app.srv.orders.SetFunding(ctx, org.Actor{Scope: scope}, callOff, get().Version, it.ID, 1); err != nil {
		t.Fatal(err)
	}
	day := dates.Date(2027, 1, 4)
	if err := app.srv.orders.SaveRecipients(ctx, org.Actor{Scope: scope}, callOff, get().Version, it.ID,
		[]order.RecipientInput{{Practice: "A81001", PlannedDelivery: &day}}); err != nil {
		t.Fatal(err)
	}
	if err := app.srv.orders.Complete(ctx, org.Actor{Scope: scope}, callOff, get().Version); err != nil {
		t.Fatal(err)
	}
}

func TestProcurementFormsShowTheErrorSummary(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, nil)
	buyer := app.client()
	buyer.signIn("buyer.16c@example.nhs.uk")
	path := newProcurement(t, buyer, url.Values{"name": {"Weights"}})

	// Weights of 60 and 30: refused with the summary, what was typed kept.
	v := versionOf(t, buyer, path+"/prepare")
	resp := buyer.post(path+"/prepare", url.Values{"version": {v}, "procedure": {"further_competition_off"},
		"criterion-1-name": {"Functionality"}, "criterion-1-weight": {"60"},
		"criterion-2-name": {"Price"}, "criterion-2-weight": {"30"}})
	wantStatus(t, resp, http.StatusBadRequest)
	d := doc(t, resp)
	summary := d.Find(".nhsuk-error-summary")
	if !strings.Contains(summary.Text(), "The weights must add up to 100: they add up to 90") {
		t.Errorf("error summary: %q", summary.Text())
	}
	if href, _ := summary.Find("a").First().Attr("href"); href != "#criteria" || d.Find("#criteria").Length() != 1 {
		t.Errorf("the summary links to %q", href)
	}
	if w, _ := d.Find("#criterion-2-weight").Attr("value"); w != "30" {
		t.Errorf("typed weight not kept: %q", w)
	}
	if checked, _ := d.Find("input[name=procedure][checked]").Attr("value"); checked != "further_competition_off" {
		t.Errorf("typed procedure not kept: %q", checked)
	}
	if got, _ := d.Find("input[name=version]").Attr("value"); got != v {
		t.Errorf("version %q after a refusal, want %q", got, v)
	}

	// A weight that is not a number is shown beside its field.
	resp = buyer.post(path+"/prepare", url.Values{"version": {v}, "procedure": {"direct_award"},
		"criterion-1-name": {"Functionality"}, "criterion-1-weight": {"70"},
		"criterion-2-name": {"Functionality"}, "criterion-2-weight": {"thirty"}})
	wantStatus(t, resp, http.StatusBadRequest)
	d = doc(t, resp)
	if d.Find("#criterion-2-weight-error").Length() != 1 || d.Find("#criterion-2-name-error").Length() != 1 {
		t.Errorf("field errors: %q", d.Find(".nhsuk-error-summary").Text())
	}
	p, err := procurement.Get(context.Background(), app.pool, org.AllCCGs(), 1)
	if err != nil || p.Procedure != "" || len(p.Criteria) != 0 {
		t.Errorf("a refused Prepare saved %+v (%v)", p, err)
	}

	// A bad date on the award form: every problem at once, no order.
	wantRedirect(t, buyer.post(path+"/prepare", url.Values{"version": {v}, "procedure": {"direct_award"},
		"criterion-1-name": {"Functionality"}, "criterion-1-weight": {"100"}}), path)
	wantRedirect(t, buyer.post(path+"/shortlist", url.Values{"version": {versionOf(t, buyer, path+"/shortlist")}, "item": {"10000-001"}}), path+"/shortlist")
	// A second solution for a Direct Award is refused on the shortlist page.
	resp = buyer.post(path+"/shortlist", url.Values{"version": {versionOf(t, buyer, path+"/shortlist")}, "item": {"10052-002"}})
	wantStatus(t, resp, http.StatusBadRequest)
	if s := doc(t, resp).Find(".nhsuk-error-summary").Text(); !strings.Contains(s, "A Direct Award shortlists exactly one solution") {
		t.Errorf("shortlist summary: %q", s)
	}
	wantRedirect(t, buyer.post(path+"/shortlist/complete", url.Values{"version": {versionOf(t, buyer, path+"/shortlist")}}), path)
	d = doc(t, buyer.get(path))
	if got := taskStatus(d, "evaluate"); got != "Skipped" {
		t.Errorf("evaluate under a Direct Award: %q", got)
	}
	resp = buyer.post(path+"/award", url.Values{"version": {versionOf(t, buyer, path+"/award")}, "winner": {"10000-001"},
		"commencement-day": {"31"}, "commencement-month": {"2"}, "commencement-year": {"2027"},
		"initial-period": {"12"}, "maximum-term": {"12"}})
	wantStatus(t, resp, http.StatusBadRequest)
	summaryText := doc(t, resp).Find(".nhsuk-error-summary").Text()
	if !strings.Contains(summaryText, "Commencement date must be a real date") || !strings.Contains(summaryText, "Maximum term must be longer than the initial period") {
		t.Errorf("award summary: %q", summaryText)
	}
	var orders int
	if err := app.pool.QueryRow(context.Background(), `SELECT count(*) FROM orders`).Scan(&orders); err != nil || orders != 0 {
		t.Errorf("%d orders after a refused award (%v)", orders, err)
	}
}

func TestProcurementOfAnotherCCGIsNotFound(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, nil)
	buyer := app.client()
	buyer.signIn("buyer.16c@example.nhs.uk")
	path := newProcurement(t, buyer, url.Values{"name": {"Stockton only"}})
	v := versionOf(t, buyer, path+"/prepare")

	other := app.client()
	other.signIn("buyer.03q@example.nhs.uk")
	for _, p := range []string{path, path + "/prepare", path + "/shortlist", path + "/evaluate", path + "/award", path + "/manage"} {
		wantStatus(t, other.get(p), http.StatusNotFound)
	}
	prepare := url.Values{"version": {v}, "procedure": {"direct_award"}, "criterion-1-name": {"Price"}, "criterion-1-weight": {"100"}}
	wantStatus(t, other.post(path+"/prepare", prepare), http.StatusNotFound)
	for _, p := range []string{"/shortlist", "/shortlist/remove", "/shortlist/complete", "/evaluate", "/award", "/manage"} {
		wantStatus(t, other.post(path+p, url.Values{"version": {v}, "item": {"10000-001"}}), http.StatusNotFound)
	}
	if n := doc(t, other.get("/procurements")).Find("[data-testid=procurement-list] tbody tr").Length(); n != 0 {
		t.Errorf("another CCG's buyer lists %d procurements", n)
	}
	if got := versionOf(t, buyer, path+"/prepare"); got != v {
		t.Errorf("version moved from %s to %s", v, got)
	}

	// A reviewer sees every CCG's, and starts one for the CCG they pick.
	reviewer := app.client()
	reviewer.signIn("reviewer@example.nhs.uk")
	wantStatus(t, reviewer.get(path), http.StatusOK)
	resp := reviewer.post("/procurements", url.Values{"name": {"For Kent"}, "ccg": {""}})
	wantStatus(t, resp, http.StatusBadRequest)
	if doc(t, resp).Find("#ccg-error").Length() != 1 {
		t.Error("no error beside the CCG a reviewer did not pick")
	}
	newProcurement(t, reviewer, url.Values{"name": {"For 03Q"}, "ccg": {"03Q"}})
	if n := doc(t, reviewer.get("/procurements")).Find("[data-testid=procurement-list] tbody tr").Length(); n != 2 {
		t.Errorf("a reviewer lists %d procurements, want 2", n)
	}
	if n := doc(t, other.get("/procurements")).Find("[data-testid=procurement-list] tbody tr").Length(); n != 1 {
		t.Errorf("03Q's buyer lists %d procurements, want their 1", n)
	}
	// Finance has no procurement pages.
	finance := app.client()
	finance.signIn("finance@example.nhs.uk")
	wantStatus(t, finance.get("/procurements"), http.StatusForbidden)
}
