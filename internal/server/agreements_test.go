package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"ccgtracker/internal/auth"
	"ccgtracker/internal/org"
)

// ledgerRouteLines are the route table lines of the agreement and service
// ledger pages, as routes.go should list them.
func (s *Server) ledgerRouteLines() []route {
	return []route{
		{"GET", "/ccgs/{code}/agreements", signedIn(), s.agreementList},
		{"GET", "/ccgs/{code}/agreements/{id}", signedIn(), s.agreementShow},
		{"POST", "/ccgs/{code}/agreements/{id}/services", only(auth.Reviewer), s.agreementAddService},
		{"POST", "/ccgs/{code}/agreements/{id}/cancellations", only(auth.Reviewer), s.agreementCancel},
		{"GET", "/ccgs/{code}/services", signedIn(), s.serviceList},
		{"GET", "/ccgs/{code}/services/{id}", signedIn(), s.serviceShow},
	}
}

// newLedgerApp is a test app with a few continuity services: 16C's EMIS
// agreement (A81001 and A81002, Emis Web GP) and 03Q's TPP agreement
// (B81036, SystmOne GP). Until routes.go lists the ledger routes, they are
// added here the way register adds them, on a server started afterwards
// so that the router is complete before it serves.
func newLedgerApp(t *testing.T) *testApp {
	t.Helper()
	app := newTestApp(t, nil)
	table := map[string]access{}
	for _, rt := range app.srv.routes() {
		table[rt.method+" "+rt.pattern] = rt.access
	}
	added := false
	for _, rt := range app.srv.ledgerRouteLines() {
		if a, ok := table[rt.method+" "+rt.pattern]; ok {
			if a.public != rt.access.public || strings.Join(roleNames(a.roles), ",") != strings.Join(roleNames(rt.access.roles), ",") {
				t.Errorf("routes.go admits %v to %s %s, want %v", a.roles, rt.method, rt.pattern, rt.access.roles)
			}
			continue
		}
		added = true
		app.srv.mux.Method(rt.method, rt.pattern, app.srv.adapt(app.srv.authorize(rt.access, rt.handler)))
	}
	if added {
		app.ts = httptest.NewServer(app.srv)
		t.Cleanup(app.ts.Close)
	}
	_, err := app.srv.ledger.ImportContinuity(context.Background(), org.System(), strings.NewReader(
		"practice,supplier,item,start_date\nA81001,10000,10000-001,2020-01-01\nA81002,10000,10000-001,2020-01-01\nB81036,10052,10052-002,2020-01-01\n"))
	if err != nil {
		t.Fatal(err)
	}
	return app
}

func roleNames(roles []auth.Role) []string {
	out := make([]string, len(roles))
	for i, r := range roles {
		out[i] = string(r)
	}
	return out
}

func (a *testApp) agreementID(ccg, supplier string) string {
	a.t.Helper()
	var id int64
	if err := a.pool.QueryRow(context.Background(), `SELECT id FROM continuity_agreements WHERE ccg_code = $1 AND supplier_id = $2`,
		ccg, supplier).Scan(&id); err != nil {
		a.t.Fatal(err)
	}
	return strconv.FormatInt(id, 10)
}

func (a *testApp) instanceID(practice, item string) string {
	a.t.Helper()
	var id int64
	if err := a.pool.QueryRow(context.Background(), `SELECT max(id) FROM service_instances WHERE practice_code = $1 AND catalogue_item_id = $2`,
		practice, item).Scan(&id); err != nil {
		a.t.Fatal(err)
	}
	return strconv.FormatInt(id, 10)
}

func (a *testApp) instanceCount() int {
	a.t.Helper()
	var n int
	if err := a.pool.QueryRow(context.Background(), `SELECT count(*) FROM service_instances`).Scan(&n); err != nil {
		a.t.Fatal(err)
	}
	return n
}

// summaryList is an NHS summary list as key → value, spaces collapsed.
func summaryList(s *goquery.Selection) map[string]string {
	out := map[string]string{}
	s.Find(".nhsuk-summary-list__row").Each(func(_ int, row *goquery.Selection) {
		key := strings.Join(strings.Fields(row.Find(".nhsuk-summary-list__key").Text()), " ")
		out[key] = strings.Join(strings.Fields(row.Find(".nhsuk-summary-list__value").Text()), " ")
	})
	return out
}

// errorSummary is the error summary's messages with the field each links to.
func errorSummary(d *goquery.Document) map[string]string {
	out := map[string]string{}
	d.Find(".nhsuk-error-summary__list a").Each(func(_ int, a *goquery.Selection) {
		href, _ := a.Attr("href")
		out[href] = strings.TrimSpace(a.Text())
	})
	return out
}

func TestLedgerPagesBuyerOfAnotherCCGGets404(t *testing.T) {
	t.Parallel()
	app := newLedgerApp(t)
	tpp := app.agreementID("03Q", "10052")
	tppService := app.instanceID("B81036", "10052-002")
	c := app.client()
	c.signIn("buyer.16c@example.nhs.uk")

	for _, tc := range []struct{ name, path string }{
		{"AnotherCCGsAgreements", "/ccgs/03Q/agreements"},
		{"AnotherCCGsAgreement", "/ccgs/03Q/agreements/" + tpp},
		{"AnotherCCGsAgreementUnderOwnCCG", "/ccgs/16C/agreements/" + tpp},
		{"AgreementNotANumber", "/ccgs/16C/agreements/not-a-number"},
		{"AnotherCCGsServices", "/ccgs/03Q/services"},
		{"AnotherCCGsService", "/ccgs/03Q/services/" + tppService},
		{"AnotherCCGsServiceUnderOwnCCG", "/ccgs/16C/services/" + tppService},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := c.get(tc.path)
			wantStatus(t, resp, http.StatusNotFound)
			if body := text(t, resp); strings.Contains(body, "B81036") || strings.Contains(body, "SystmOne") {
				t.Errorf("GET %s: the 404 shows 03Q's data", tc.path)
			}
		})
	}
}

func TestAgreementPagesBuyerReadsOnly(t *testing.T) {
	t.Parallel()
	app := newLedgerApp(t)
	emis := app.agreementID("16C", "10000")
	c := app.client()
	c.signIn("buyer.16c@example.nhs.uk")

	resp := c.get("/ccgs/16C/agreements")
	wantStatus(t, resp, http.StatusOK)
	d := doc(t, resp)
	if got := strings.TrimSpace(d.Find(`[data-testid="agreement-list"] tbody a`).Text()); got != "EMIS Health" {
		t.Errorf("16C's agreements list %q, want EMIS Health", got)
	}

	resp = c.get("/ccgs/16C/agreements/" + emis)
	wantStatus(t, resp, http.StatusOK)
	d = doc(t, resp)
	if n := d.Find(`form[action^="/ccgs/"]`).Length(); n != 0 {
		t.Errorf("a buyer sees %d forms that post to the agreement", n)
	}
	if n := d.Find(`[data-testid="add-service"], [data-testid="record-cancellation"]`).Length(); n != 0 {
		t.Errorf("a buyer sees %d agreement forms", n)
	}
	if n := d.Find(`[data-testid="ledger"] tbody tr`).Length(); n != 2 {
		t.Errorf("%d services listed, want 2", n)
	}

	before := app.instanceCount()
	resp = c.post("/ccgs/16C/agreements/"+emis+"/services", url.Values{
		"practice": {"A81004"}, "item": {"10000-001"}, "start-day": {"1"}, "start-month": {"1"}, "start-year": {"2021"}})
	wantStatus(t, resp, http.StatusForbidden)
	resp = c.post("/ccgs/16C/agreements/"+emis+"/cancellations", url.Values{
		"cancel-practice": {"A81001"}, "cancel-date-day": {"1"}, "cancel-date-month": {"1"}, "cancel-date-year": {"2021"}})
	wantStatus(t, resp, http.StatusForbidden)
	if n := app.instanceCount(); n != before {
		t.Errorf("%d instances after the buyer's posts, want %d", n, before)
	}
	var state string
	if err := app.pool.QueryRow(context.Background(), `SELECT state FROM service_instances WHERE practice_code = 'A81001'`).Scan(&state); err != nil || state != "active" {
		t.Errorf("A81001's service is %s (%v), want active", state, err)
	}
}

func TestAgreementPagesOtherRolesRead(t *testing.T) {
	t.Parallel()
	app := newLedgerApp(t)
	emis := app.agreementID("16C", "10000")
	for _, email := range []string{"finance@example.nhs.uk", "admin@example.nhs.uk", "reviewer@example.nhs.uk"} {
		t.Run(email, func(t *testing.T) {
			c := app.client()
			c.signIn(email)
			for _, path := range []string{"/ccgs/16C", "/ccgs/16C/agreements", "/ccgs/16C/agreements/" + emis, "/ccgs/03Q/services"} {
				resp := c.get(path)
				wantStatus(t, resp, http.StatusOK)
				d := doc(t, resp)
				forms := d.Find(`[data-testid="add-service"], [data-testid="record-cancellation"]`).Length()
				if wantForms := email == "reviewer@example.nhs.uk" && strings.Contains(path, "/agreements/"); (forms == 2) != wantForms {
					t.Errorf("%s GET %s: %d agreement forms", email, path, forms)
				}
				if path == "/ccgs/16C" {
					if n := d.Find(`[data-testid="ccg-links"] a[href="/ccgs/16C/services"], [data-testid="ccg-links"] a[href="/ccgs/16C/agreements"]`).Length(); n != 2 {
						t.Errorf("%s: the CCG page has %d of the 2 ledger links", email, n)
					}
				}
			}
		})
	}
}

func TestAgreementAddServiceRefusesABadDate(t *testing.T) {
	t.Parallel()
	app := newLedgerApp(t)
	emis := app.agreementID("16C", "10000")
	c := app.client()
	c.signIn("reviewer@example.nhs.uk")
	before := app.instanceCount()

	t.Run("ErrNotARealDate", func(t *testing.T) {
		resp := c.post("/ccgs/16C/agreements/"+emis+"/services", url.Values{
			"practice": {"B81036"}, "item": {"10000-001"}, "start-day": {"31"}, "start-month": {"2"}, "start-year": {"2021"}})
		wantStatus(t, resp, http.StatusBadRequest)
		d := doc(t, resp)
		want := map[string]string{
			"#practice":  "B81036 is not a practice of NHS Tees Valley CCG",
			"#start-day": "Start date must be a real date: 31/2/2021 does not exist",
		}
		if got := errorSummary(d); len(got) != len(want) || got["#practice"] != want["#practice"] || got["#start-day"] != want["#start-day"] {
			t.Errorf("error summary = %v, want %v", got, want)
		}
		if msg := strings.TrimSpace(d.Find("#start-day-error").Text()); !strings.Contains(msg, "Start date must be a real date") {
			t.Errorf("start date field error %q", msg)
		}
		if v, _ := d.Find("#start-day").Attr("value"); v != "31" {
			t.Errorf("the day typed is not kept: %q", v)
		}
		if v, _ := d.Find(`#item option[selected]`).Attr("value"); v != "10000-001" {
			t.Errorf("the service picked is not kept: %q", v)
		}
		if !strings.HasPrefix(d.Find("title").Text(), "Error: ") {
			t.Errorf("title %q does not start with Error:", d.Find("title").Text())
		}
		if n := app.instanceCount(); n != before {
			t.Errorf("%d instances after a refused add, want %d", n, before)
		}
	})

	t.Run("ErrMonthMissing", func(t *testing.T) {
		// Part of a date missing, and the other fields fine.
		resp := c.post("/ccgs/16C/agreements/"+emis+"/services", url.Values{
			"practice": {"A81004"}, "item": {"10000-001"}, "start-day": {"1"}, "start-year": {"2021"}})
		wantStatus(t, resp, http.StatusBadRequest)
		if got := errorSummary(doc(t, resp)); len(got) != 1 || got["#start-day"] != "Start date must include a month" {
			t.Errorf("error summary = %v", got)
		}
	})
}

func TestAgreementAddServiceAndCancel(t *testing.T) {
	t.Parallel()
	app := newLedgerApp(t)
	emis := app.agreementID("16C", "10000")
	path := "/ccgs/16C/agreements/" + emis
	c := app.client()
	c.signIn("reviewer@example.nhs.uk")

	resp := c.get(path)
	wantStatus(t, resp, http.StatusOK)
	d := doc(t, resp)
	if d.Find(`#item option[value="10000-001A003"]`).Length() != 1 || d.Find(`#item option[value="10052-002"]`).Length() != 0 {
		t.Errorf("the service select does not offer EMIS's catalogue only")
	}

	resp = c.post(path+"/services", url.Values{
		"practice": {" a81004 "}, "item": {"10000-001A003"}, "start-day": {"1"}, "start-month": {"4"}, "start-year": {"2021"}})
	wantRedirect(t, resp, path)
	id := app.instanceID("A81004", "10000-001A003")
	resp = c.get(path)
	wantStatus(t, resp, http.StatusOK)
	d = doc(t, resp)
	if flash := d.Find(".nhsuk-notification-banner__heading").Text(); !strings.Contains(flash, "Automated Arrivals added for") || !strings.Contains(flash, "SI"+id+"-A81004") {
		t.Errorf("flash %q", flash)
	}
	if n := d.Find(`[data-testid="ledger"] tbody tr`).Length(); n != 3 {
		t.Errorf("%d services listed, want 3", n)
	}

	resp = c.get("/ccgs/16C/services/" + id)
	wantStatus(t, resp, http.StatusOK)
	d = doc(t, resp)
	if h1 := strings.Join(strings.Fields(d.Find("h1").Text()), " "); h1 != "Service SI"+id+"-A81004 Active" {
		t.Errorf("h1 %q", h1)
	}
	summary := summaryList(d.Find(`[data-testid="instance"]`))
	for key, want := range map[string]string{"Price": "£35.51 per licence per month", "Actual M1 (go-live)": "1 April 2021",
		"M2 (service stable)": "1 April 2021", "Source": "Continuity agreement", "Quantity": "1", "Cessation date": "–"} {
		if summary[key] != want {
			t.Errorf("instance %s = %q, want %q", key, summary[key], want)
		}
	}
	history := strings.Join(strings.Fields(d.Find(`[data-testid="history"] tbody`).Text()), " ")
	if !strings.Contains(history, "Rita Reviewer") || !strings.Contains(history, "added to the continuity agreement") || !strings.Contains(history, "State: Active") {
		t.Errorf("history: %s", history)
	}

	// A refused cancellation shows its own form's errors.
	resp = c.post(path+"/cancellations", url.Values{"cancel-practice": {"B81036"}})
	wantStatus(t, resp, http.StatusBadRequest)
	d = doc(t, resp)
	if got := errorSummary(d); got["#cancel-practice"] != "B81036 is not a practice of NHS Tees Valley CCG" || got["#cancel-date-day"] != "Enter the cancellation date" {
		t.Errorf("error summary = %v", got)
	}
	if d.Find(`[data-testid="add-service"] .nhsuk-error-message`).Length() != 0 {
		t.Errorf("the add form shows the cancellation's errors")
	}

	resp = c.post(path+"/cancellations", url.Values{
		"cancel-practice": {"A81004"}, "cancel-date-day": {"30"}, "cancel-date-month": {"9"}, "cancel-date-year": {"2026"}})
	wantRedirect(t, resp, path)
	resp = c.get("/ccgs/16C/services/" + id)
	wantStatus(t, resp, http.StatusOK)
	d = doc(t, resp)
	history = strings.Join(strings.Fields(d.Find(`[data-testid="history"] tbody tr`).First().Text()), " ")
	for _, want := range []string{"cancellation recorded", "State: Active → changed to Ceased", "Cessation date: none → changed to 30 September 2026"} {
		if !strings.Contains(history, want) {
			t.Errorf("newest history entry lacks %q: %s", want, history)
		}
	}
}

func TestServiceLedgerFilters(t *testing.T) {
	t.Parallel()
	app := newLedgerApp(t)
	c := app.client()
	c.signIn("buyer.16c@example.nhs.uk")

	rows := func(t *testing.T, query string) []string {
		t.Helper()
		resp := c.get("/ccgs/16C/services" + query)
		wantStatus(t, resp, http.StatusOK)
		var out []string
		doc(t, resp).Find(`[data-testid="ledger"] tbody tr`).Each(func(_ int, tr *goquery.Selection) {
			out = append(out, strings.TrimSpace(tr.Find("td a").First().Text()))
		})
		return out
	}
	t.Run("none", func(t *testing.T) {
		if got := rows(t, ""); len(got) != 2 {
			t.Errorf("16C's services: %v", got)
		}
	})
	t.Run("practice", func(t *testing.T) {
		if got := rows(t, "?practice=a81002"); len(got) != 1 || !strings.HasSuffix(got[0], "-A81002") {
			t.Errorf("filter by practice: %v", got)
		}
	})
	t.Run("active", func(t *testing.T) {
		if got := rows(t, "?state=active"); len(got) != 2 {
			t.Errorf("filter active: %v", got)
		}
	})
	t.Run("ceased", func(t *testing.T) {
		if got := rows(t, "?state=ceased"); len(got) != 0 {
			t.Errorf("filter ceased: %v", got)
		}
	})
	resp := c.get("/ccgs/16C/services?state=active")
	d := doc(t, resp)
	if v, _ := d.Find(`#state option[selected]`).Attr("value"); v != "active" {
		t.Errorf("the state filter is not kept: %q", v)
	}
	row := strings.Join(strings.Fields(d.Find(`[data-testid="ledger"] tbody tr`).First().Text()), " ")
	for _, want := range []string{"Emis Web GP", "EMIS Health", "Continuity agreement", "Active", "1 Jan 2020"} {
		if !strings.Contains(row, want) {
			t.Errorf("ledger row lacks %q: %s", want, row)
		}
	}
	if href, _ := d.Find(`[data-testid="ledger"] tbody tr td a[href^="/ccgs/16C/agreements/"]`).First().Attr("href"); href != "/ccgs/16C/agreements/"+app.agreementID("16C", "10000") {
		t.Errorf("source link %q", href)
	}
}
