package server

import (
	"bytes"
	"context"
	"encoding/csv"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// newOrder creates an order through the form and returns its path.
func newOrder(t *testing.T, c *client, extra url.Values) string {
	t.Helper()
	form := url.Values{"supplier": {"10000"}, "description": {"Emis Web GP for Stockton"},
		"commencement-day": {"1"}, "commencement-month": {"12"}, "commencement-year": {"2026"},
		"initial-period": {"12"}, "maximum-term": {"36"}}
	for k, v := range extra {
		form[k] = v
	}
	resp := c.post("/orders", form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create order: %d %s", resp.StatusCode, doc(t, resp).Find(".nhsuk-error-summary").Text())
	}
	return resp.Header.Get("Location")
}

func versionOf(t *testing.T, c *client, path string) string {
	t.Helper()
	v, ok := doc(t, c.get(path)).Find("input[name=version]").First().Attr("value")
	if !ok {
		t.Fatalf("%s has no version field", path)
	}
	return v
}

func TestBuyerBuildsAndCompletesAnOrder(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, nil)
	buyer := app.client()
	buyer.signIn("buyer.16c@example.nhs.uk")

	// A buyer's order is for their CCG whatever the form says.
	orderPath := newOrder(t, buyer, url.Values{"ccg": {"03Q"}})
	if orderPath != "/orders/C010001-01" {
		t.Fatalf("created %s", orderPath)
	}
	var ccg string
	if err := app.pool.QueryRow(context.Background(), `SELECT ccg_code FROM orders`).Scan(&ccg); err != nil || ccg != "16C" {
		t.Fatalf("order CCG %q (%v)", ccg, err)
	}

	resp := buyer.post(orderPath+"/items", url.Values{"version": {versionOf(t, buyer, orderPath+"/items/new")}, "item": {"10000-001"}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), orderPath+"/items/") {
		t.Fatalf("add item: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	itemPath := resp.Header.Get("Location")
	wantRedirect(t, buyer.post(itemPath+"/funding", url.Values{"version": {versionOf(t, buyer, itemPath)}, "funding": {"1"}}), itemPath)
	resp = buyer.post(itemPath+"/practices", url.Values{"version": {versionOf(t, buyer, itemPath)}, "practice": {"A81001", "A81002", "A81004"}})
	wantRedirect(t, resp, itemPath+"/recipients")

	// A date that does not exist is refused beside its field; nothing saved.
	recip := itemPath + "/recipients"
	form := url.Values{"version": {versionOf(t, buyer, recip)}, "action": {"save"}}
	for _, code := range []string{"A81001", "A81002", "A81004"} {
		form.Set("quantity-"+code, "100")
		form.Set("delivery-"+code+"-day", "4")
		form.Set("delivery-"+code+"-month", "1")
		form.Set("delivery-"+code+"-year", "2027")
	}
	form.Set("delivery-A81002-day", "31")
	form.Set("delivery-A81002-month", "2")
	form.Set("quantity-A81004", "-5")
	resp = buyer.post(recip, form)
	wantStatus(t, resp, http.StatusBadRequest)
	d := doc(t, resp)
	summary := d.Find(".nhsuk-error-summary").Text()
	if !strings.Contains(summary, "31/2/2027 does not exist") || !strings.Contains(summary, "must be 1 or more") {
		t.Errorf("error summary: %q", summary)
	}
	if d.Find("#delivery-A81002-day-error").Length() != 1 {
		t.Error("no error beside the bad date")
	}
	if v, _ := d.Find("#quantity-A81004").Attr("value"); v != "-5" {
		t.Errorf("the typed quantity was not kept: %q", v)
	}

	// Apply one date to all, with the list sizes as quantities.
	form = url.Values{"version": {versionOf(t, buyer, recip)}, "action": {"apply-all"},
		"all-day": {"4"}, "all-month": {"1"}, "all-year": {"2027"},
		"quantity-A81001": {"4100"}, "quantity-A81002": {"18917"}, "quantity-A81004": {"11011"}}
	wantRedirect(t, buyer.post(recip, form), orderPath)

	d = doc(t, buyer.get(orderPath))
	if total := strings.TrimSpace(d.Find("[data-testid=order-total]").Text()); total != "£128,625.84" {
		t.Errorf("order total %q, want £128,625.84 (34,028 patients × £1.26 × 3 years)", total)
	}
	resp = buyer.post(orderPath+"/complete", url.Values{"version": {versionOf(t, buyer, orderPath)}})
	wantRedirect(t, resp, orderPath)
	d = doc(t, buyer.get(orderPath))
	if n := d.Find("[data-testid=ledger] tbody tr").Length(); n != 3 {
		t.Errorf("%d service instances shown, want 3", n)
	}
	if !strings.Contains(d.Find("[data-testid=ledger]").Text(), "Planned") {
		t.Error("the services are not shown as planned")
	}

	// Completing again with the old version is refused and says why.
	resp = buyer.post(orderPath+"/complete", url.Values{"version": {"1"}})
	wantStatus(t, resp, http.StatusConflict)

	// The CSV in the finance layout, as an attachment.
	resp = buyer.get(orderPath + "/export.csv")
	wantStatus(t, resp, http.StatusOK)
	if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="order-C010001-01.csv"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	rows, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil || len(rows) != 4 {
		t.Errorf("CSV: %d rows (%v)", len(rows), err)
	}

	// Another CCG's buyer sees nothing of it.
	other := app.client()
	other.signIn("buyer.03q@example.nhs.uk")
	for _, p := range []string{orderPath, orderPath + "/export.csv", orderPath + "/summary", itemPath} {
		wantStatus(t, other.get(p), http.StatusNotFound)
	}
	wantStatus(t, other.post(orderPath+"/amend", url.Values{"version": {"3"}}), http.StatusNotFound)
	if n := doc(t, other.get("/orders")).Find("[data-testid=order-list] tbody tr").Length(); n != 0 {
		t.Errorf("another CCG's buyer lists %d orders", n)
	}
	// Finance reads but cannot change.
	finance := app.client()
	finance.signIn("finance@example.nhs.uk")
	wantStatus(t, finance.get(orderPath), http.StatusOK)
	wantStatus(t, finance.post(orderPath+"/amend", url.Values{"version": {"3"}}), http.StatusForbidden)
}

func TestOrderFormShowsEveryProblem(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, nil)
	reviewer := app.client()
	reviewer.signIn("reviewer@example.nhs.uk")
	resp := reviewer.post("/orders", url.Values{"ccg": {""}, "supplier": {""}, "description": {""},
		"commencement-day": {"30"}, "commencement-month": {"2"}, "commencement-year": {"2027"},
		"initial-period": {"twelve"}, "maximum-term": {"48"}})
	wantStatus(t, resp, http.StatusBadRequest)
	d := doc(t, resp)
	var links []string
	d.Find(".nhsuk-error-summary__list a").Each(func(_ int, a *goquery.Selection) {
		href, _ := a.Attr("href")
		links = append(links, href)
	})
	want := []string{"#ccg", "#supplier", "#description", "#commencement-day", "#initial-period", "#maximum-term"}
	if strings.Join(links, " ") != strings.Join(want, " ") {
		t.Errorf("error summary links %v, want %v", links, want)
	}
	var n int
	if err := app.pool.QueryRow(context.Background(), `SELECT count(*) FROM orders`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d orders saved from a bad form", n)
	}
}

func TestUploadOfPracticeCodes(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, nil)
	buyer := app.client()
	buyer.signIn("buyer.16c@example.nhs.uk")
	orderPath := newOrder(t, buyer, nil)
	resp := buyer.post(orderPath+"/items", url.Values{"version": {versionOf(t, buyer, orderPath+"/items/new")}, "item": {"10000-001"}})
	itemPath := resp.Header.Get("Location")

	var other string
	if err := app.pool.QueryRow(context.Background(), `SELECT code FROM practices WHERE ccg_code = '03Q' LIMIT 1`).Scan(&other); err != nil {
		t.Fatal(err)
	}
	upload := func(content string) *http.Response {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		_ = mw.WriteField("version", versionOf(t, buyer, itemPath))
		fw, _ := mw.CreateFormFile("file", "practices.csv")
		_, _ = fw.Write([]byte(content))
		_ = mw.Close()
		req, _ := http.NewRequest(http.MethodPost, app.ts.URL+itemPath+"/upload", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		resp, err := buyer.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	resp = upload("ODS code\nA81001\nZ99999\n" + other + "\n")
	wantStatus(t, resp, http.StatusBadRequest)
	problems := doc(t, resp).Find("[data-testid=upload-problems]").Text()
	// Another CCG's practice is not named: its buyers alone may see it.
	if !strings.Contains(problems, "Z99999 is not a known practice") || !strings.Contains(problems, other+" belongs to another CCG") ||
		strings.Contains(problems, other+" (") {
		t.Errorf("upload problems: %q", problems)
	}
	var n int
	if err := app.pool.QueryRow(context.Background(), `SELECT count(*) FROM order_recipients`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d recipients added from a file with errors", n)
	}
	resp = upload("A81001\r\nA81002\r\n")
	wantRedirect(t, resp, itemPath+"/recipients")
	if err := app.pool.QueryRow(context.Background(), `SELECT count(*) FROM order_recipients`).Scan(&n); err != nil || n != 2 {
		t.Errorf("%d recipients after a good file, want 2", n)
	}
}

// The termination form: every problem at once, nothing terminated, then
// a good termination gives the services their cessation date.
func TestTerminationFormShowsEveryProblem(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, nil)
	buyer := app.client()
	buyer.signIn("buyer.16c@example.nhs.uk")
	orderPath := newOrder(t, buyer, nil)
	itemPath := buyer.post(orderPath+"/items", url.Values{"version": {versionOf(t, buyer, orderPath+"/items/new")}, "item": {"10000-001"}}).Header.Get("Location")
	wantRedirect(t, buyer.post(itemPath+"/funding", url.Values{"version": {versionOf(t, buyer, itemPath)}, "funding": {"1"}}), itemPath)
	wantRedirect(t, buyer.post(itemPath+"/practices", url.Values{"version": {versionOf(t, buyer, itemPath)}, "practice": {"A81001"}}), itemPath+"/recipients")
	wantRedirect(t, buyer.post(itemPath+"/recipients", url.Values{"version": {versionOf(t, buyer, itemPath+"/recipients")}, "action": {"save"},
		"quantity-A81001": {"4100"}, "delivery-A81001-day": {"4"}, "delivery-A81001-month": {"1"}, "delivery-A81001-year": {"2027"}}), orderPath)
	wantRedirect(t, buyer.post(orderPath+"/complete", url.Values{"version": {versionOf(t, buyer, orderPath)}}), orderPath)

	form := url.Values{"version": {versionOf(t, buyer, orderPath+"/terminate")}, "reason": {" "},
		"termination-day": {"31"}, "termination-month": {"6"}, "termination-year": {"2027"}}
	resp := buyer.post(orderPath+"/terminate", form)
	wantStatus(t, resp, http.StatusBadRequest)
	summary := doc(t, resp).Find(".nhsuk-error-summary").Text()
	if !strings.Contains(summary, "Enter the reason") || !strings.Contains(summary, "31/6/2027 does not exist") {
		t.Errorf("error summary %q", summary)
	}
	var status string
	if err := app.pool.QueryRow(context.Background(), `SELECT status FROM orders`).Scan(&status); err != nil || status != "completed" {
		t.Errorf("after a refused termination the order is %q (%v)", status, err)
	}
	form.Set("reason", "Practice merged")
	form.Set("termination-day", "30")
	wantRedirect(t, buyer.post(orderPath+"/terminate", form), orderPath)
	var cessation string
	if err := app.pool.QueryRow(context.Background(), `SELECT cessation_date::text FROM service_instances`).Scan(&cessation); err != nil || cessation != "2027-06-30" {
		t.Errorf("cessation %q (%v)", cessation, err)
	}
}
