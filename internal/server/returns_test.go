package server

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"ccgtracker/internal/dates"
	"ccgtracker/internal/ledger"
	"ccgtracker/internal/org"
	"ccgtracker/internal/postgres"
	"ccgtracker/internal/postgres/pgtest"
	"ccgtracker/internal/refdata"
	"ccgtracker/internal/tracker"
)

// The November 2026 return of 16C; the test clock stands on 24 November,
// so it is open and due on 21 December.
const novReturn = "/ccgs/16C/returns/2026-11"

// returnApp is a test app with the demo continuity services (16C's
// practices' GP systems, active since 1 January 2020) and November's
// returns issued.
type returnApp struct {
	*testApp
	service  string // an active service of 16C, as SI12-A81001
	practice string // its practice
	id       int64
}

func newReturnApp(t *testing.T) *returnApp {
	t.Helper()
	return newReturnAppOn(t, pgtest.New(t))
}

// newReturnAppOn is newReturnApp on a pool the test opened.
func newReturnAppOn(t *testing.T, pool *pgxpool.Pool) *returnApp {
	t.Helper()
	app := newTestAppOn(t, pool, nil)
	ctx := context.Background()
	if err := postgres.Tx(ctx, app.pool, func(tx pgx.Tx) error {
		_, err := ledger.SeedDemoContinuity(ctx, tx, time.Now(), refdata.FS(), dates.Date(2020, 1, 1))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	nov, _ := tracker.ParsePeriod("2026-11")
	if _, err := tracker.NewStore(app.pool, time.Now).Issue(ctx, org.System(), nov); err != nil {
		t.Fatal(err)
	}
	a := &returnApp{testApp: app}
	if err := app.pool.QueryRow(ctx, `
		SELECT id, 'SI' || id || '-' || practice_code, practice_code FROM service_instances
		WHERE ccg_code = '16C' AND state = 'active' ORDER BY practice_code LIMIT 1`).Scan(&a.id, &a.service, &a.practice); err != nil {
		t.Fatal(err)
	}
	return a
}

func (a *returnApp) count(query string, args ...any) int {
	a.t.Helper()
	var n int
	if err := a.pool.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		a.t.Fatal(err)
	}
	return n
}

// cessation is the add-a-change form for a cessation of the app's service.
func (a *returnApp) cessation(version, day string) url.Values {
	return url.Values{"version": {version}, "kind": {"cessation"}, "instance": {a.service},
		"date-day": {day}, "date-month": {"11"}, "date-year": {"2026"}}
}

func summaryLinks(d *goquery.Document) []string {
	var links []string
	d.Find(".nhsuk-error-summary__list a").Each(func(_ int, a *goquery.Selection) {
		href, _ := a.Attr("href")
		links = append(links, href)
	})
	return links
}

// The whole round: the buyer reports a cessation, gets a date wrong, loses
// a race, submits; the reviewer sees it in the list, returns it with
// comments; the buyer puts it right and resubmits; the reviewer accepts
// and the ledger has the date.
func TestReturnRoundTrip(t *testing.T) {
	t.Parallel()
	app := newReturnApp(t)
	buyer := app.client()
	buyer.signIn("buyer.16c@example.nhs.uk")

	d := doc(t, buyer.get(novReturn))
	if h1 := d.Find("h1").Text(); !strings.Contains(h1, "Return for November 2026") || !strings.Contains(h1, "Issued") {
		t.Errorf("heading %q", h1)
	}
	if timing := d.Find("[data-testid=return-timing]").Text(); !strings.Contains(timing, "27 days left") {
		t.Errorf("timing %q, want 27 days left (due 21 December)", timing)
	}
	// November is not over: the page says from when it can be sent.
	if d.Find("button:contains('No changes this month')").Length() != 0 || !strings.Contains(d.Find("[data-testid=submit-from]").Text(), "from 1 December 2026") {
		t.Errorf("an empty return on 24 November: %q", d.Find("[data-testid=submit-from]").Text())
	}
	// The form starts with the practice; the service comes from it.
	if d.Find("select#instance").Length() != 0 || d.Find("form[data-testid=line-practice] input#practice").Length() != 1 {
		t.Error("the form does not start with the practice")
	}
	d = doc(t, buyer.get(novReturn+"?practice="+app.practice))
	// Each kind reveals its own fields: a cessation's service picker.
	if d.Find("#conditional-kind-3 select#cessation-instance option[value='"+app.service+"']").Length() != 1 {
		t.Error("the cessation's service select does not offer the service")
	}
	v1 := versionOf(t, buyer, novReturn)

	// A date that does not exist and a note too long: both are shown at
	// once, each beside its field, with what was typed and chosen kept.
	form := app.cessation(v1, "31")
	form.Set("date-month", "2")
	form.Set("practice", app.practice)
	form.Set("note", strings.Repeat("n", 501))
	resp := buyer.post(novReturn+"/lines", form)
	wantStatus(t, resp, http.StatusBadRequest)
	d = doc(t, resp)
	if got := strings.Join(summaryLinks(d), " "); got != "#date-day #note" {
		t.Errorf("error summary links %q, want #date-day #note", got)
	}
	if s := d.Find(".nhsuk-error-summary").Text(); !strings.Contains(s, "31/2/2026 does not exist") || !strings.Contains(s, "500 characters or fewer") {
		t.Errorf("error summary %q", s)
	}
	if d.Find("#date-day-error").Length() != 1 || d.Find("#note-error").Length() != 1 {
		t.Error("the problems are not beside their fields")
	}
	if v, _ := d.Find("#date-day").Attr("value"); v != "31" {
		t.Errorf("typed day not kept: %q", v)
	}
	if v, _ := d.Find("[data-testid=add-line] input[name=practice]").Attr("value"); v != app.practice {
		t.Errorf("the chosen practice was not kept: %q", v)
	}
	if d.Find("select#cessation-instance option[selected][value='"+app.service+"']").Length() != 1 {
		t.Error("the chosen service was not kept")
	}
	if d.Find("input[name=kind][value=cessation][checked]").Length() != 1 {
		t.Error("the chosen kind was not kept")
	}

	// A practice that is not one goes back to the first step, with what
	// was typed and the problem beside it.
	form = app.cessation(v1, "20")
	form.Set("practice", "Z99999")
	resp = buyer.post(novReturn+"/lines", form)
	wantStatus(t, resp, http.StatusBadRequest)
	d = doc(t, resp)
	if got := strings.Join(summaryLinks(d), " "); got != "#practice" {
		t.Errorf("error summary links %q, want #practice", got)
	}
	if !strings.Contains(d.Find("#practice-error").Text(), "Z99999 is not a practice") {
		t.Errorf("the practice's problem is not beside it: %q", d.Find(".nhsuk-error-summary").Text())
	}
	if v, _ := d.Find("input#practice").Attr("value"); v != "Z99999" {
		t.Errorf("typed practice not kept: %q", v)
	}

	// A stale version is refused with the return as it is now.
	resp = buyer.post(novReturn+"/lines", app.cessation("999", "20"))
	wantStatus(t, resp, http.StatusConflict)
	d = doc(t, resp)
	if !strings.Contains(d.Find(".nhsuk-error-summary").Text(), "changed by someone else") || !strings.Contains(d.Find("h1").Text(), "Return for November 2026") {
		t.Error("the conflict does not show the message with the return")
	}
	if n := app.count(`SELECT count(*) FROM return_lines`); n != 0 {
		t.Fatalf("%d lines saved by refused posts", n)
	}

	// The cessation, with the practice taken from the service.
	wantRedirect(t, buyer.post(novReturn+"/lines", app.cessation(v1, "20")), novReturn)
	d = doc(t, buyer.get(novReturn))
	line := d.Find("[data-testid=return-line][data-kind=cessation]")
	if line.Length() != 1 || !strings.Contains(line.Text(), app.service) || !strings.Contains(line.Text(), "20 November 2026") {
		t.Fatalf("the cessation is not listed: %q", d.Find("[data-testid=return-lines]").Text())
	}
	if !strings.Contains(d.Find(".nhsuk-notification-banner").Text(), "Cessation at "+app.practice+" added") {
		t.Errorf("flash %q", d.Find(".nhsuk-notification-banner").Text())
	}

	// Before November has ended, check your answers says when it can be
	// sent, and a submission is refused saying so, changing nothing.
	d = doc(t, buyer.get(novReturn+"/check"))
	if d.Find("button:contains('Submit the return')").Length() != 0 || !strings.Contains(d.Find("[data-testid=submit-from]").Text(), "You can submit this return from 1 December 2026") {
		t.Errorf("check your answers on 24 November: %q", d.Find("main").Text())
	}
	resp = buyer.post(novReturn+"/submit", url.Values{"version": {versionOf(t, buyer, novReturn)}})
	wantStatus(t, resp, http.StatusBadRequest)
	if msg := doc(t, resp).Find(".nhsuk-error-summary").Text(); !strings.Contains(msg, "can be submitted from 1 December 2026") {
		t.Errorf("a submission on 24 November: %q", msg)
	}
	if n := app.count(`SELECT count(*) FROM return_submissions`); n != 0 {
		t.Fatalf("%d submissions kept before the month ended", n)
	}

	// Check your answers, then submit, once November is over.
	app.endNovember(buyer)
	d = doc(t, buyer.get(novReturn+"/check"))
	if d.Find("button:contains('Submit the return')").Length() != 1 || d.Find("[data-testid=return-problems]").Length() != 0 {
		t.Fatal("check your answers offers no submit button")
	}
	wantRedirect(t, buyer.post(novReturn+"/submit", url.Values{"version": {versionOf(t, buyer, novReturn+"/check")}}), novReturn)

	// The reviewer's list shows it submitted, and counts it.
	reviewer := app.client()
	reviewer.signIn("reviewer@example.nhs.uk")
	d = doc(t, reviewer.get("/returns?period=2026-11&status=submitted"))
	rows := d.Find("[data-testid=return-list] tbody tr")
	if rows.Length() != 1 || !strings.Contains(rows.Text(), "16C") || !strings.Contains(rows.Text(), "Submitted") {
		t.Errorf("reviewer's submitted returns: %q", rows.Text())
	}
	if counts := d.Find("[data-testid=return-counts]").Text(); !strings.Contains(counts, "Submitted: 1") {
		t.Errorf("counts %q", counts)
	}
	if n := doc(t, reviewer.get("/returns?period=2026-11&region=Y56")).Find("[data-testid=return-list] tbody tr[data-ccg='16C']").Length(); n != 0 {
		t.Error("16C listed under London")
	}

	// The review page checks the line; the reviewer sends it back.
	review := novReturn + "/review"
	d = doc(t, reviewer.get(review))
	// The practice's GP system is on a framework in force: no warning of
	// that; its only service ceasing is worth one.
	if checks := d.Find("[data-testid=line-checks]").Text(); !strings.Contains(checks, "would be left with no planned or active service") ||
		strings.Contains(checks, "Transition Assistance Notice") {
		t.Errorf("automatic checks %q", checks)
	}
	var lineID int64
	if err := app.pool.QueryRow(context.Background(), `SELECT id FROM return_lines`).Scan(&lineID); err != nil {
		t.Fatal(err)
	}
	commentField := "comment-" + strconv.FormatInt(lineID, 10)
	resp = reviewer.post(novReturn+"/return", url.Values{"version": {versionOf(t, reviewer, review)}})
	wantStatus(t, resp, http.StatusBadRequest)
	if got := strings.Join(summaryLinks(doc(t, resp)), " "); got != "#comment" {
		t.Errorf("returning without a comment: summary links %q", got)
	}
	resp = reviewer.post(novReturn+"/return", url.Values{"version": {versionOf(t, reviewer, review)},
		"comment": {"Check the cessation date"}, commentField: {"Was it the 19th?"}})
	wantRedirect(t, resp, review)

	// The reviewer is not told to put the changes right: that is the
	// buyer's word.
	if c := doc(t, reviewer.get(review)).Find("[data-testid=review-comment]").Text(); !strings.Contains(c, "Check the cessation date") ||
		strings.Contains(c, "Put the changes right") {
		t.Errorf("the reviewer's view of the comment: %q", c)
	}
	// The buyer sees the comments, puts it right and submits again.
	d = doc(t, buyer.get(novReturn))
	if c := d.Find("[data-testid=review-comment]").Text(); !strings.Contains(c, "Check the cessation date") || !strings.Contains(c, "Put the changes right") {
		t.Errorf("review comment %q", c)
	}
	if !strings.Contains(d.Find("[data-testid=return-line]").Text(), "Was it the 19th?") {
		t.Error("the line's comment is not beside it")
	}
	v := versionOf(t, buyer, novReturn)
	wantRedirect(t, buyer.post(novReturn+"/lines/"+strconv.FormatInt(lineID, 10)+"/delete", url.Values{"version": {v}}), novReturn)
	wantRedirect(t, buyer.post(novReturn+"/lines", app.cessation(versionOf(t, buyer, novReturn), "19")), novReturn)
	wantRedirect(t, buyer.post(novReturn+"/submit", url.Values{"version": {versionOf(t, buyer, novReturn)}}), novReturn)

	// Both versions are kept, the second showing what changed.
	d = doc(t, reviewer.get(novReturn+"/versions"))
	if n := d.Find("[data-testid=version]").Length(); n != 2 {
		t.Errorf("%d versions shown, want 2", n)
	}
	diff := d.Find("[data-testid=version-diff]").Text()
	if !strings.Contains(diff, "Added") || !strings.Contains(diff, "19 November 2026") || !strings.Contains(diff, "Removed") || !strings.Contains(diff, "20 November 2026") {
		t.Errorf("version diff %q", diff)
	}

	// A buyer cannot accept their own return; the reviewer does.
	wantStatus(t, buyer.post(novReturn+"/accept", url.Values{"version": {versionOf(t, reviewer, review)}}), http.StatusForbidden)
	wantRedirect(t, reviewer.post(novReturn+"/accept", url.Values{"version": {versionOf(t, reviewer, review)}}), review)
	d = doc(t, reviewer.get(review))
	if !strings.Contains(d.Find("h1").Text(), "Accepted") || !strings.Contains(d.Find(".nhsuk-notification-banner").Text(), "1 change applied") {
		t.Errorf("after accepting: %q / %q", d.Find("h1").Text(), d.Find(".nhsuk-notification-banner").Text())
	}
	if changed := d.Find("[data-testid=ledger]").Text(); !strings.Contains(changed, app.service) || !strings.Contains(changed, "19 Nov 2026") {
		t.Errorf("the result does not show the cessation: %q", changed)
	}
	d = doc(t, buyer.get("/ccgs/16C/services/"+strconv.FormatInt(app.id, 10)))
	if ledgerText := d.Find("[data-testid=instance]").Text(); !strings.Contains(ledgerText, "19 November 2026") {
		t.Errorf("the ledger does not have the cessation date: %q", ledgerText)
	}

	// Nobody changes an accepted return.
	current := strconv.Itoa(app.count(`SELECT version FROM tracker_returns WHERE ccg_code = '16C' AND period = '2026-11-01'`))
	resp = buyer.post(novReturn+"/lines", app.cessation(current, "18"))
	wantStatus(t, resp, http.StatusConflict)
	if msg := doc(t, resp).Find(".nhsuk-error-summary").Text(); !strings.Contains(msg, "accepted, so it cannot be changed") {
		t.Errorf("editing an accepted return: %q", msg)
	}
	if doc(t, buyer.get(novReturn)).Find("form[action$='/lines']").Length() != 0 {
		t.Error("an accepted return still offers the add-a-change form")
	}
}

func TestReturnNilReturn(t *testing.T) {
	t.Parallel()
	app := newReturnApp(t)
	buyer := app.client()
	buyer.signIn("buyer.16c@example.nhs.uk")
	// Before November has ended the page says when the nil return can be
	// sent, and sending it is refused.
	d := doc(t, buyer.get(novReturn))
	if d.Find("form[action$='/nil']").Length() != 0 || !strings.Contains(d.Find("[data-testid=submit-from]").Text(), "You can submit this return from 1 December 2026") {
		t.Errorf("the return page on 24 November: %q", d.Find("[data-testid=submit-from]").Text())
	}
	wantStatus(t, buyer.post(novReturn+"/nil", url.Values{"version": {versionOf(t, buyer, novReturn)}}), http.StatusBadRequest)
	app.endNovember(buyer)
	if doc(t, buyer.get(novReturn)).Find("button:contains('No changes this month')").Length() != 1 {
		t.Error("no nil return button on an empty return once November is over")
	}
	wantRedirect(t, buyer.post(novReturn+"/nil", url.Values{"version": {versionOf(t, buyer, novReturn)}}), novReturn)
	d = doc(t, buyer.get(novReturn))
	if !strings.Contains(d.Find("[data-testid=return-status]").Text(), "nil return") || !strings.Contains(d.Find("h1").Text(), "Submitted") {
		t.Errorf("after a nil return: %q", d.Find("main").Text())
	}
	if n := app.count(`SELECT count(*) FROM return_submissions WHERE nil_return`); n != 1 {
		t.Errorf("%d nil submissions kept, want 1", n)
	}
	// Sent twice (a double click): still one submission.
	wantRedirect(t, buyer.post(novReturn+"/nil", url.Values{"version": {"1"}}), novReturn)
	if n := app.count(`SELECT count(*) FROM return_submissions`); n != 1 {
		t.Errorf("%d submissions after a double click, want 1", n)
	}
	reviewer := app.client()
	reviewer.signIn("reviewer@example.nhs.uk")
	if !strings.Contains(doc(t, reviewer.get(novReturn+"/review")).Find("main").Text(), "says there were no changes") {
		t.Error("the review page does not say it is a nil return")
	}
}

func TestReturnOfAnotherCCGIsNotFound(t *testing.T) {
	t.Parallel()
	app := newReturnApp(t)
	other := app.client()
	other.signIn("buyer.03q@example.nhs.uk")
	for _, p := range []string{"/ccgs/16C/returns", novReturn, novReturn + "?q=A81001&page=2", novReturn + "?practice=A81001",
		novReturn + "/check", novReturn + "/download", novReturn + "/versions"} {
		t.Run("GET "+p, func(t *testing.T) {
			resp := other.get(p)
			wantStatus(t, resp, http.StatusNotFound)
			if strings.Contains(text(t, resp), "Tees Valley") {
				t.Errorf("GET %s: the 404 names the other CCG", p)
			}
		})
	}
	for _, p := range []string{novReturn + "/lines", novReturn + "/lines/1/delete", novReturn + "/submit", novReturn + "/nil", novReturn + "/upload"} {
		t.Run("POST "+p, func(t *testing.T) {
			wantStatus(t, other.post(p, url.Values{"version": {"1"}}), http.StatusNotFound)
		})
	}
	if n := app.count(`SELECT count(*) FROM tracker_returns WHERE ccg_code = '16C' AND status <> 'issued'`); n != 0 {
		t.Errorf("another CCG's buyer changed %d returns", n)
	}
	// Their own return is theirs.
	wantStatus(t, other.get("/ccgs/03Q/returns/2026-11"), http.StatusOK)
}

func TestReturnAccessByRole(t *testing.T) {
	t.Parallel()
	app := newReturnApp(t)
	buyer := app.client()
	buyer.signIn("buyer.16c@example.nhs.uk")
	wantRedirect(t, buyer.post(novReturn+"/lines", app.cessation(versionOf(t, buyer, novReturn), "20")), novReturn)
	app.endNovember(buyer)
	wantRedirect(t, buyer.post(novReturn+"/submit", url.Values{"version": {versionOf(t, buyer, novReturn)}}), novReturn)
	reviewer := app.client()
	reviewer.signIn("reviewer@example.nhs.uk")
	version := versionOf(t, reviewer, novReturn+"/review")

	cases := []struct {
		name   string
		email  string
		method string
		path   string
		want   int
	}{
		{"BuyerCannotAccept", "buyer.16c@example.nhs.uk", "POST", novReturn + "/accept", http.StatusForbidden},
		{"BuyerCannotReturn", "buyer.16c@example.nhs.uk", "POST", novReturn + "/return", http.StatusForbidden},
		{"BuyerCannotOpenTheReviewerList", "buyer.16c@example.nhs.uk", "GET", "/returns", http.StatusForbidden},
		{"ReviewerCannotEditLines", "reviewer@example.nhs.uk", "POST", novReturn + "/lines", http.StatusForbidden},
		{"ReviewerCannotSubmit", "reviewer@example.nhs.uk", "POST", novReturn + "/submit", http.StatusForbidden},
		{"ReviewerReadsTheReturn", "reviewer@example.nhs.uk", "GET", novReturn, http.StatusOK},
		{"FinanceReadsTheReview", "finance@example.nhs.uk", "GET", novReturn + "/review", http.StatusOK},
		{"FinanceCannotAccept", "finance@example.nhs.uk", "POST", novReturn + "/accept", http.StatusForbidden},
		{"AdminReadsTheList", "admin@example.nhs.uk", "GET", "/returns?period=2026-11", http.StatusOK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl := app.client()
			cl.signIn(c.email)
			var resp *http.Response
			if c.method == "POST" {
				resp = cl.post(c.path, url.Values{"version": {version}, "comment": {"x"}})
			} else {
				resp = cl.get(c.path)
			}
			if resp.StatusCode != c.want {
				t.Errorf("%s: %s %s = %d, want %d", c.name, c.method, c.path, resp.StatusCode, c.want)
			}
		})
	}
	// Read-only viewers get no forms that change the return.
	d := doc(t, reviewer.get(novReturn))
	if d.Find("form[action$='/lines'], form[action$='/submit']").Length() != 0 {
		t.Error("a reviewer is offered the buyer's forms")
	}
	d = doc(t, app.clientAs("finance@example.nhs.uk").get(novReturn+"/review"))
	if d.Find("form[action$='/accept'], form[action$='/return']").Length() != 0 {
		t.Error("finance is offered the reviewer's forms")
	}
	if n := app.count(`SELECT count(*) FROM tracker_returns WHERE ccg_code = '16C' AND period = '2026-11-01' AND status = 'submitted'`); n != 1 {
		t.Error("a refused request changed the return")
	}
}

func (a *testApp) clientAs(email string) *client {
	c := a.client()
	c.signIn(email)
	return c
}

// upload posts a file to the return's upload form as a browser does.
func (c *client) upload(path, version, name string, content []byte) *http.Response {
	c.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("version", version)
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = fw.Write(content)
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, c.app.ts.URL+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

const changesHeader = "Kind,Practice ODS code,Service ID,New service ID,Target practices,Corrects,Date,Note\n"

func TestReturnUploadIsAllOrNothing(t *testing.T) {
	t.Parallel()
	app := newReturnApp(t)
	buyer := app.client()
	buyer.signIn("buyer.16c@example.nhs.uk")
	var second, secondPractice string
	if err := app.pool.QueryRow(context.Background(), `
		SELECT 'SI' || id || '-' || practice_code, practice_code FROM service_instances
		WHERE ccg_code = '16C' AND state = 'active' AND practice_code > $1 ORDER BY practice_code LIMIT 1`, app.practice).Scan(&second, &secondPractice); err != nil {
		t.Fatal(err)
	}

	// Row 2 is right, row 3's date is not a date, row 4 reads well but the
	// service is live already: nothing is added, rows 3 and 4 are listed.
	bad := changesHeader +
		"cessation," + app.practice + "," + app.service + ",,,,2026-11-20,\n" +
		"cessation," + secondPractice + "," + second + ",,,,2026-02-31,\n" +
		"activation," + secondPractice + "," + second + ",,,,2026-11-21,\n"
	resp := buyer.upload(novReturn+"/upload", versionOf(t, buyer, novReturn), "changes.csv", []byte(bad))
	wantStatus(t, resp, http.StatusBadRequest)
	problems := doc(t, resp).Find("[data-testid=upload-problems] li")
	var listed []string
	problems.Each(func(_ int, li *goquery.Selection) {
		listed = append(listed, strings.Join(strings.Fields(li.Text()), " "))
	})
	all := strings.Join(listed, " | ")
	// Where each problem is reads as a sentence: "Row 3, Date: …".
	if !strings.Contains(all, "Row 3, Date: ") || strings.Contains(all, " ,") || strings.Contains(all, " :") {
		t.Errorf("row 3's date is not listed as \"Row 3, Date: …\": %q", all)
	}
	if !strings.Contains(all, "Row 4") || !strings.Contains(all, "Service ID") {
		t.Errorf("row 4's service is not listed: %q", all)
	}
	if strings.Contains(all, "Row 2") {
		t.Errorf("the good row 2 is listed: %q", all)
	}
	if n := app.count(`SELECT count(*) FROM return_lines`); n != 0 {
		t.Fatalf("%d lines added from a file with errors", n)
	}

	// Not a spreadsheet at all.
	resp = buyer.upload(novReturn+"/upload", versionOf(t, buyer, novReturn), "photo.csv", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))
	wantStatus(t, resp, http.StatusBadRequest)
	if msg := doc(t, resp).Find("[data-testid=upload-problems]").Text(); !strings.Contains(msg, "not an Excel (.xlsx) or CSV file") {
		t.Errorf("a PNG upload: %q", msg)
	}
	// Too large.
	resp = buyer.upload(novReturn+"/upload", versionOf(t, buyer, novReturn), "big.csv", bytes.Repeat([]byte("x"), 6<<20))
	wantStatus(t, resp, http.StatusBadRequest)
	if msg := doc(t, resp).Find("[data-testid=upload-problems]").Text(); !strings.Contains(msg, "larger than 5 MB") {
		t.Errorf("a 6 MB upload: %q", msg)
	}

	// A good file adds every line at once.
	good := changesHeader +
		"cessation," + app.practice + "," + app.service + ",,,,2026-11-20,left the practice\n" +
		"Cessation," + secondPractice + "," + second + ",,,,21/11/2026,\n"
	resp = buyer.upload(novReturn+"/upload", versionOf(t, buyer, novReturn), "changes.csv", []byte(good))
	wantRedirect(t, resp, novReturn)
	if n := app.count(`SELECT count(*) FROM return_lines`); n != 2 {
		t.Errorf("%d lines after a good file, want 2", n)
	}
	if !strings.Contains(doc(t, buyer.get(novReturn)).Find(".nhsuk-notification-banner").Text(), "2 changes from changes.csv added") {
		t.Error("no flash after the upload")
	}
	// The same file again contradicts the lines it added: nothing more.
	resp = buyer.upload(novReturn+"/upload", versionOf(t, buyer, novReturn), "changes.csv", []byte(good))
	wantStatus(t, resp, http.StatusBadRequest)
	if n := app.count(`SELECT count(*) FROM return_lines`); n != 2 {
		t.Errorf("%d lines after a repeated file, want 2", n)
	}
}

func TestReturnDownloadIsAWorkbook(t *testing.T) {
	t.Parallel()
	app := newReturnApp(t)
	buyer := app.client()
	buyer.signIn("buyer.16c@example.nhs.uk")
	resp := buyer.get(novReturn + "/download")
	wantStatus(t, resp, http.StatusOK)
	if ct := resp.Header.Get("Content-Type"); ct != xlsxType {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="return-16C-2026-11.xlsx"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("not a ZIP: %v", err)
	}
	found := false
	for _, f := range zr.File {
		found = found || f.Name == "xl/workbook.xml"
	}
	if !found {
		t.Error("the download is not an Excel workbook")
	}
	// Uploaded back untouched, it has no changes to add.
	resp = buyer.upload(novReturn+"/upload", versionOf(t, buyer, novReturn), "return-16C-2026-11.xlsx", body)
	wantStatus(t, resp, http.StatusBadRequest)
	if msg := doc(t, resp).Find("[data-testid=upload-problems]").Text(); !strings.Contains(msg, "no changes") {
		t.Errorf("the empty workbook uploaded back: %q", msg)
	}

	// With a change on the return, the workbook carries it; uploaded back,
	// it is not added a second time.
	wantRedirect(t, buyer.post(novReturn+"/lines", app.cessation(versionOf(t, buyer, novReturn), "20")), novReturn)
	resp = buyer.get(novReturn + "/download")
	body, err = io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	resp = buyer.upload(novReturn+"/upload", versionOf(t, buyer, novReturn), "return-16C-2026-11.xlsx", body)
	wantStatus(t, resp, http.StatusBadRequest)
	if msg := doc(t, resp).Find("[data-testid=upload-problems]").Text(); !strings.Contains(msg, "already on the return") {
		t.Errorf("the workbook with its line uploaded back: %q", msg)
	}
	if n := doc(t, buyer.get(novReturn)).Find("[data-testid=return-line]").Length(); n != 1 {
		t.Errorf("%d lines after uploading the workbook back, want 1", n)
	}
}

// A change requested in October, dated December, comes back on November's
// return until the buyer gives its actual date.
func TestReturnPendingChangeConfirmed(t *testing.T) {
	t.Parallel()
	app := newReturnApp(t)
	ctx := context.Background()
	oct, _ := tracker.ParsePeriod("2026-10")
	if _, err := tracker.NewStore(app.pool, time.Now).Issue(ctx, org.System(), oct); err != nil {
		t.Fatal(err)
	}
	scope := org.OnlyCCG("16C")
	get := func() tracker.Return {
		r, err := tracker.Get(ctx, app.pool, scope, "16C", oct)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if err := app.srv.tracker.AddLine(ctx, org.Actor{Scope: scope}, "16C", oct, get().Version,
		tracker.LineInput{Kind: tracker.Cessation, Practice: app.practice, Instance: app.service, Date: dates.Date(2026, 12, 5), Note: "planned closure"}); err != nil {
		t.Fatal(err)
	}
	if err := app.srv.tracker.Submit(ctx, org.Actor{Scope: scope}, "16C", oct, get().Version, false); err != nil {
		t.Fatal(err)
	}
	if _, err := app.srv.tracker.Accept(ctx, org.System(), "16C", oct, get().Version); err != nil {
		t.Fatal(err)
	}
	var requestedID int64
	if err := app.pool.QueryRow(ctx, `SELECT id FROM return_lines`).Scan(&requestedID); err != nil {
		t.Fatal(err)
	}
	prefix := "pending-" + strconv.FormatInt(requestedID, 10)

	buyer := app.client()
	buyer.signIn("buyer.16c@example.nhs.uk")
	d := doc(t, buyer.get(novReturn))
	card := d.Find("[data-testid=pending-line]")
	if card.Length() != 1 || !strings.Contains(card.Text(), app.service) || !strings.Contains(card.Text(), "5 December 2026") {
		t.Fatalf("pending changes: %q", card.Text())
	}
	resp := buyer.post(novReturn+"/lines", url.Values{"version": {versionOf(t, buyer, novReturn)}, "carried-from": {strconv.FormatInt(requestedID, 10)},
		prefix + "-date-day": {"40"}, prefix + "-date-month": {"11"}, prefix + "-date-year": {"2026"}})
	wantStatus(t, resp, http.StatusBadRequest)
	d = doc(t, resp)
	if got := strings.Join(summaryLinks(d), " "); got != "#"+prefix+"-date-day" {
		t.Errorf("a bad actual date: summary links %q", got)
	}
	if d.Find("#"+prefix+"-date-day-error").Length() != 1 {
		t.Error("the bad actual date has no message beside it")
	}
	resp = buyer.post(novReturn+"/lines", url.Values{"version": {versionOf(t, buyer, novReturn)}, "carried-from": {strconv.FormatInt(requestedID, 10)},
		prefix + "-date-day": {"23"}, prefix + "-date-month": {"11"}, prefix + "-date-year": {"2026"}})
	wantRedirect(t, resp, novReturn)
	if n := app.count(`SELECT count(*) FROM return_lines WHERE carried_from = $1 AND effective_date = '2026-11-23' AND kind = 'cessation'`, requestedID); n != 1 {
		t.Errorf("%d lines confirm the requested change, want 1", n)
	}
	d = doc(t, buyer.get(novReturn))
	if d.Find("[data-testid=pending-line]").Length() != 0 {
		t.Error("the confirmed change is still pending")
	}
	if !strings.Contains(d.Find("[data-testid=return-line]").Text(), "Confirms a requested change") {
		t.Error("the line does not say it confirms a requested change")
	}
}

func TestReturnHistoryAndList(t *testing.T) {
	t.Parallel()
	app := newReturnApp(t)
	buyer := app.client()
	buyer.signIn("buyer.16c@example.nhs.uk")
	t.Run("History", func(t *testing.T) {
		d := doc(t, buyer.get("/ccgs/16C/returns"))
		rows := d.Find("[data-testid=return-history] tbody tr")
		if rows.Length() != 1 || !strings.Contains(rows.Text(), "November 2026") || !strings.Contains(rows.Text(), "21 December 2026") {
			t.Errorf("return history: %q", rows.Text())
		}
	})
	reviewer := app.clientAs("reviewer@example.nhs.uk")
	oct, _ := tracker.ParsePeriod("2026-10")
	if _, err := tracker.NewStore(app.pool, time.Now).Issue(context.Background(), org.System(), oct); err != nil {
		t.Fatal(err)
	}
	// The list defaults to last month, whose returns are due this month.
	t.Run("DefaultsToLastMonth", func(t *testing.T) {
		d := doc(t, reviewer.get("/returns"))
		if h1 := d.Find("h1").Text(); h1 != "Monthly returns for October 2026" {
			t.Errorf("default list %q", h1)
		}
		// October's returns of North East and Yorkshire were due on 20 November.
		late := d.Find("[data-testid=return-list] tbody tr[data-ccg='16C']").Text()
		if !strings.Contains(late, "Late") || !strings.Contains(late, "4 days late") {
			t.Errorf("16C's October return: %q", late)
		}
	})
	t.Run("LateInARegion", func(t *testing.T) {
		d := doc(t, reviewer.get("/returns?period=2026-10&status=late&region=Y63"))
		d.Find("[data-testid=return-list] tbody tr").Each(func(_ int, s *goquery.Selection) {
			if !strings.Contains(s.Text(), "Late") {
				t.Errorf("a return listed as late is not: %q", s.Text())
			}
		})
	})
	// Sorted by days late: London's (due 9 November) before the North
	// East's (due 20 November).
	t.Run("SortedByDaysLate", func(t *testing.T) {
		d := doc(t, reviewer.get("/returns?period=2026-10&sort=late"))
		first, _ := d.Find("[data-testid=return-list] tbody tr").First().Attr("data-ccg")
		var region string
		if err := app.pool.QueryRow(context.Background(), `SELECT region_code FROM ccgs WHERE code = $1`, first).Scan(&region); err != nil || region != "Y56" {
			t.Errorf("the latest return listed first is %s's, in %s (%v); want a London CCG's", first, region, err)
		}
	})
}

// inPeriodRefs are the refs of 16C's services in November 2026, in the
// order of the return's table (practice name, code, item, id), read here
// rather than through the code under test.
func (a *returnApp) inPeriodRefs(where string, args ...any) []string {
	a.t.Helper()
	rows, err := a.pool.Query(context.Background(), `
		SELECT 'SI' || si.id || '-' || si.practice_code
		FROM service_instances si JOIN practices p ON p.code = si.practice_code JOIN catalogue_items ci ON ci.id = si.catalogue_item_id
		WHERE si.ccg_code = '16C' AND (si.state = 'planned' OR (si.actual_m1 <= '2026-11-30' AND (si.cessation_date IS NULL OR si.cessation_date > '2026-11-01')))
		  AND `+where+`
		ORDER BY p.name, si.practice_code, ci.name, si.id`, args...)
	if err != nil {
		a.t.Fatal(err)
	}
	refs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		a.t.Fatal(err)
	}
	return refs
}

// serviceRefs are the services a return page's table lists.
func serviceRefs(d *goquery.Document) []string {
	var refs []string
	d.Find("[data-testid=return-service] td:first-child a").Each(func(_ int, a *goquery.Selection) {
		refs = append(refs, strings.TrimSpace(a.Text()))
	})
	return refs
}

func pageLink(d *goquery.Document, rel string) string {
	href, _ := d.Find(".nhsuk-pagination a[rel=" + rel + "]").Attr("href")
	return href
}

// The return page lists a page of the month's services, in order, with
// numbered pages that link to the right rows; it carries no service
// picker until a practice is chosen.
func TestReturnPageListsAPageOfServices(t *testing.T) {
	t.Parallel()
	app := newReturnApp(t)
	buyer := app.client()
	buyer.signIn("buyer.16c@example.nhs.uk")
	all := app.inPeriodRefs("true")
	const size = 25
	if len(all) <= 2*size {
		t.Fatalf("16C has %d services in November: the test needs more than %d", len(all), 2*size)
	}
	pages := (len(all) + size - 1) / size

	d := doc(t, buyer.get(novReturn))
	if got := serviceRefs(d); !slices.Equal(got, all[:size]) {
		t.Errorf("page 1 lists %v, want %v", got, all[:size])
	}
	if got, want := d.Find("[data-testid=pager-summary]").Text(), "Showing 1 to 25 of "+strconv.Itoa(len(all)); !strings.Contains(got, want) {
		t.Errorf("summary %q, want %q", got, want)
	}
	if n := d.Find("select#instance, select#new-instance, option[value^=SI]").Length(); n != 0 {
		t.Errorf("the page carries %d service pickers or options before a practice is chosen", n)
	}
	if !strings.Contains(d.Find("[data-testid=ledger] thead").Text(), "Planned M1") {
		t.Error("the services table has no planned M1")
	}
	if cur, _ := d.Find(".nhsuk-pagination__item--current a").Attr("aria-current"); cur != "page" || strings.TrimSpace(d.Find(".nhsuk-pagination__item--current").Text()) != "1" {
		t.Errorf("current page %q", d.Find(".nhsuk-pagination__item--current").Text())
	}
	if prev, next := pageLink(d, "prev"), pageLink(d, "next"); prev != "" || next != novReturn+"?page=2#services" {
		t.Errorf("page 1 links prev %q next %q", prev, next)
	}
	last := novReturn + "?page=" + strconv.Itoa(pages) + "#services"
	if d.Find(".nhsuk-pagination__list a[href='"+last+"'][aria-label='Page "+strconv.Itoa(pages)+"']").Length() != 1 {
		t.Errorf("no link to the last page %s", last)
	}

	d = doc(t, buyer.get(novReturn+"?page=2"))
	if got := serviceRefs(d); !slices.Equal(got, all[size:2*size]) {
		t.Errorf("page 2 lists %v, want %v", got, all[size:2*size])
	}
	if prev, next := pageLink(d, "prev"), pageLink(d, "next"); prev != novReturn+"?page=1#services" || next != novReturn+"?page=3#services" {
		t.Errorf("page 2 links prev %q next %q", prev, next)
	}

	for _, p := range []string{strconv.Itoa(pages), "999"} { // past the end: the last page
		d = doc(t, buyer.get(novReturn+"?page="+p))
		if got := serviceRefs(d); !slices.Equal(got, all[(pages-1)*size:]) {
			t.Errorf("page %s lists %v, want %v", p, got, all[(pages-1)*size:])
		}
		if next := pageLink(d, "next"); next != "" {
			t.Errorf("the last page links on to %q", next)
		}
	}
}

// The services' search finds a service by its id, its practice's code or
// name, or its item's name, and the page links keep the search.
func TestReturnPageSearchesServices(t *testing.T) {
	t.Parallel()
	app := newReturnApp(t)
	buyer := app.client()
	buyer.signIn("buyer.16c@example.nhs.uk")
	var practiceName string
	if err := app.pool.QueryRow(context.Background(), `SELECT name FROM practices WHERE code = $1`, app.practice).Scan(&practiceName); err != nil {
		t.Fatal(err)
	}
	ofPractice := app.inPeriodRefs("si.practice_code = $1", app.practice)
	for name, tc := range map[string]struct {
		q    string
		want []string
	}{
		"ServiceID":      {app.service, []string{app.service}},
		"ServiceIDLower": {strings.ToLower(app.service), []string{app.service}},
		"PracticeCode":   {app.practice, ofPractice},
		"PracticeName":   {strings.ToLower(practiceName), app.inPeriodRefs("p.name ILIKE '%' || $1 || '%'", practiceName)},
		"Item":           {"systmone", app.inPeriodRefs("ci.name ILIKE '%systmone%'")},
	} {
		t.Run(name, func(t *testing.T) {
			d := doc(t, buyer.get(novReturn+"?"+url.Values{"q": {tc.q}}.Encode()))
			got := serviceRefs(d)
			if len(tc.want) > 25 {
				tc.want = tc.want[:25]
			}
			if len(got) == 0 || !slices.Equal(got, tc.want) {
				t.Errorf("%s: ?q=%s lists %v, want %v", name, tc.q, got, tc.want)
			}
			if !slices.Contains(got, app.service) && name != "Item" {
				t.Errorf("%s: ?q=%s does not find %s", name, tc.q, app.service)
			}
			if v, _ := d.Find("input#q").Attr("value"); v != tc.q {
				t.Errorf("%s: the search box holds %q", name, v)
			}
		})
	}

	// A search with many results pages them, keeping the search.
	many := app.inPeriodRefs("(p.name ILIKE '%e%' OR ci.name ILIKE '%e%' OR si.practice_code ILIKE 'e%')")
	if len(many) <= 25 {
		t.Fatalf("%d services match e: the test needs more than a page", len(many))
	}
	d := doc(t, buyer.get(novReturn+"?q=e"))
	if next := pageLink(d, "next"); next != novReturn+"?page=2&q=e#services" {
		t.Errorf("the next page of a search is %q", next)
	}
	d = doc(t, buyer.get(novReturn+"?q=e&page=2"))
	if got, want := serviceRefs(d), many[25:min(50, len(many))]; !slices.Equal(got, want) {
		t.Errorf("page 2 of ?q=e lists %v, want %v", got, want)
	}
	d = doc(t, buyer.get(novReturn+"?q=nothing-like-this"))
	if serviceRefs(d) != nil || !strings.Contains(d.Find("[data-testid=pager-summary]").Text(), "matches “nothing-like-this”") {
		t.Errorf("a search finding nothing: %q", d.Find("[data-testid=pager-summary]").Text())
	}
}

// The add-a-change form finds the practice by code or name, then offers
// only that practice's services, each naming the practice; a service's
// Report a change opens the form at it.
func TestReturnLineFormOffersOnlyThePracticesServices(t *testing.T) {
	t.Parallel()
	app := newReturnApp(t)
	ctx := context.Background()
	buyer := app.client()
	buyer.signIn("buyer.16c@example.nhs.uk")
	var practiceName string
	if err := app.pool.QueryRow(ctx, `SELECT name FROM practices WHERE code = $1`, app.practice).Scan(&practiceName); err != nil {
		t.Fatal(err)
	}
	rows, err := app.pool.Query(ctx, `SELECT 'SI' || id || '-' || practice_code FROM service_instances WHERE practice_code = $1`, app.practice)
	if err != nil {
		t.Fatal(err)
	}
	want, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if others := app.count(`SELECT count(*) FROM service_instances WHERE ccg_code = '16C' AND practice_code <> $1`, app.practice); others == 0 {
		t.Fatal("16C needs services at other practices for the test")
	}

	for _, chosen := range []string{app.practice, strings.ToLower(app.practice)} {
		d := doc(t, buyer.get(novReturn+"?practice="+chosen))
		var got []string
		d.Find("select[name$='-instance'] option").Each(func(_ int, o *goquery.Selection) {
			if v, _ := o.Attr("value"); v != "" && !slices.Contains(got, v) {
				got = append(got, v)
				if !strings.Contains(o.Text(), " at "+practiceName) {
					t.Errorf("the option %q does not name the practice", o.Text())
				}
			}
		})
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("?practice=%s offers %v, want %s's services %v", chosen, got, app.practice, want)
		}
		if n := d.Find("option[value^=SI]:not([value$='-" + app.practice + "'])").Length(); n != 0 {
			t.Errorf("?practice=%s offers %d services of other practices", chosen, n)
		}
		if v, _ := d.Find("[data-testid=add-line] input[name=practice]").Attr("value"); v != app.practice {
			t.Errorf("?practice=%s: the form is about %q", chosen, v)
		}
		if !strings.Contains(d.Find("dl[data-testid=line-practice]").Text(), practiceName+" ("+app.practice+")") {
			t.Errorf("?practice=%s: the chosen practice is not shown: %q", chosen, d.Find("dl[data-testid=line-practice]").Text())
		}
	}

	// Part of a name that several practices share lists them to choose.
	var common string
	var sharing int
	if err := app.pool.QueryRow(ctx, `
		SELECT w, count(*) FROM practices, regexp_split_to_table(name, ' ') w
		WHERE ccg_code = '16C' AND length(w) > 3 GROUP BY w ORDER BY count(*) DESC, w LIMIT 1`).Scan(&common, &sharing); err != nil {
		t.Fatal(err)
	}
	if sharing < 2 {
		t.Fatalf("no word is shared by two of 16C's practices")
	}
	d := doc(t, buyer.get(novReturn+"?"+url.Values{"practice": {strings.ToLower(common)}}.Encode()))
	matches := d.Find("[data-testid=practice-matches] a")
	if matches.Length() != min(sharing, 10) || d.Find("select#instance").Length() != 0 {
		t.Errorf("?practice=%s lists %d practices and %d service pickers, want %d and none", common, matches.Length(), d.Find("select#instance").Length(), min(sharing, 10))
	}
	if href, _ := matches.First().Attr("href"); !strings.HasPrefix(href, novReturn+"?practice=") || !strings.HasSuffix(href, "#add") {
		t.Errorf("a match links to %q", href)
	}
	d = doc(t, buyer.get(novReturn+"?practice=Z99999"))
	if !strings.Contains(d.Find("[data-testid=practice-matches]").Text(), "No practice of") || d.Find("select#instance").Length() != 0 {
		t.Errorf("a practice that is not one: %q", d.Find("[data-testid=practice-matches]").Text())
	}

	// Report a change on the service's row opens the form at it.
	d = doc(t, buyer.get(novReturn+"?q="+app.service))
	report, ok := d.Find("[data-testid=return-service] a:contains('Report a change')").Attr("href")
	if !ok {
		t.Fatal("the service has no Report a change")
	}
	d = doc(t, buyer.get(report))
	if v, _ := d.Find("form[data-testid=line-form] input[type=hidden][name=instance]").Attr("value"); v != app.service {
		t.Errorf("%s is not about the service: %q", report, v)
	}
	// A live service offers what a live service may do, and no more.
	var kinds []string
	d.Find("input[name=kind]").Each(func(_ int, in *goquery.Selection) {
		v, _ := in.Attr("value")
		kinds = append(kinds, v)
	})
	if got := strings.Join(kinds, " "); got != "verification cessation migration correction" {
		t.Errorf("%s offers %q", report, got)
	}
	action, _ := d.Find("form[data-testid=line-form]").Attr("action")

	// What a buyer posts from there is added.
	form := url.Values{"version": {versionOf(t, buyer, report)}, "kind": {"cessation"}, "instance": {app.service}, "practice": {app.practice},
		"date-day": {"20"}, "date-month": {"11"}, "date-year": {"2026"}}
	wantRedirect(t, buyer.post(action, form), novReturn)
	if n := app.count(`SELECT count(*) FROM return_lines`); n != 1 {
		t.Errorf("%d lines after adding one", n)
	}
}

// A return that takes no changes shows its services without the ways to
// change them, and does not ask for any.
func TestReturnPageReadOnlyOffersNoChange(t *testing.T) {
	t.Parallel()
	app := newReturnApp(t)
	buyer := app.client()
	buyer.signIn("buyer.16c@example.nhs.uk")
	app.endNovember(buyer)
	wantRedirect(t, buyer.post(novReturn+"/nil", url.Values{"version": {versionOf(t, buyer, novReturn)}}), novReturn)
	reviewer := app.client()
	reviewer.signIn("reviewer@example.nhs.uk")
	for who, c := range map[string]*client{"the buyer of the submitted return": buyer, "a reviewer": reviewer} {
		t.Run(who, func(t *testing.T) {
			d := doc(t, c.get(novReturn+"?practice="+app.practice))
			if len(serviceRefs(d)) != 25 {
				t.Errorf("%s sees %d services, want a page of 25", who, len(serviceRefs(d)))
			}
			if body := d.Find("main").Text(); strings.Contains(body, "Report a change") || d.Find("[data-testid=add-line], [data-testid=line-practice], [data-testid=line-form]").Length() != 0 {
				t.Errorf("%s is offered to report a change", who)
			}
		})
	}
}

// A file of one enormous row, under the size limit, is refused at once in
// the upload's error summary, and nothing is saved.
func TestReturnUploadOfOneEnormousRowIsRefused(t *testing.T) {
	t.Parallel()
	app := newReturnApp(t)
	buyer := app.clientAs("buyer.16c@example.nhs.uk")
	commas := bytes.Repeat([]byte(","), 5<<20-1)
	resp := buyer.upload(novReturn+"/upload", versionOf(t, buyer, novReturn), "changes.csv", commas)
	wantStatus(t, resp, http.StatusBadRequest)
	d := doc(t, resp)
	summary := strings.Join(strings.Fields(d.Find(".nhsuk-error-summary").Text()), " ")
	if !strings.Contains(summary, "The row on line 1 has more than 200 cells") {
		t.Errorf("error summary %q", summary)
	}
	if n := app.count(`SELECT count(*) FROM return_lines`); n != 0 {
		t.Errorf("%d lines saved from a refused file", n)
	}
}
