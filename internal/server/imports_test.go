package server

import (
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"ccgtracker/internal/refdata"
)

// The admin uploads the national list-size file as published: the report
// counts it, the history keeps it (who, when, file, counts); a malformed
// file is refused with each bad row by line and column and nothing saved;
// a later extract shows in the practice's list-size history.
func TestAdminImportsListSizes(t *testing.T) {
	t.Parallel()
	app := newReturnApp(t)
	admin := app.clientAs("admin@example.nhs.uk")
	national, err := fs.ReadFile(refdata.FS(), "gp-reg-pat-prac-all.csv")
	if err != nil {
		t.Fatal(err)
	}
	page := doc(t, admin.get("/admin/imports/list-sizes"))
	if page.Find("form[data-upload-progress] input[type=file][name=file]").Length() != 1 || page.Find("progress").Length() != 1 {
		t.Fatalf("the upload form has no file input or progress")
	}

	resp := admin.upload("/admin/imports/list-sizes", "", "gp-reg-pat-prac-all.csv", national)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/admin/imports/") {
		t.Fatalf("upload: %d to %q: %s", resp.StatusCode, resp.Header.Get("Location"), text(t, resp))
	}
	report := doc(t, admin.get(resp.Header.Get("Location")))
	got := summaryText(report.Find("[data-testid=import-report]"))
	for _, want := range []string{"File gp-reg-pat-prac-all.csv", "Imported by Ada Admin", "Rows read 6,658", "New sizes 0", "Changed sizes 0",
		"Unchanged sizes 6,523", "Practices the tracker does not know 135"} {
		if !strings.Contains(got, want) {
			t.Errorf("the report lacks %q: %s", want, got)
		}
	}
	if h1 := report.Find("h1").Text(); h1 != "List sizes of 1 January 2021 imported" {
		t.Errorf("report heading %q", h1)
	}
	if n := report.Find("[data-testid=unknown] li").Length(); n != 135 {
		t.Errorf("%d unknown practices listed, want 135", n)
	}

	// Malformed: nothing saved, each bad row named.
	bad := strings.Replace(string(national), "A84002,NE65 7UW,ALL,ALL,5903", "A84002,NE65 7UW,ALL,ALL,-5903", 1)
	bad = strings.Replace(bad, "01JAN2021,GP,00L,E38000130,A84003", "32JAN2021,GP,00L,E38000130,A84003", 1)
	before := app.count(`SELECT count(*) FROM imports`)
	resp = admin.upload("/admin/imports/list-sizes", "", "bad.csv", []byte(bad))
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	problems := strings.Join(strings.Fields(doc(t, resp).Find("[data-testid=upload-problems]").Text()), " ")
	for _, want := range []string{"Row 2, column 10 (NUMBER_OF_PATIENTS): -5903 is negative", "Row 3, column 2 (EXTRACT_DATE): \"32JAN2021\" is not a date"} {
		if !strings.Contains(problems, want) {
			t.Errorf("problems lack %q: %s", want, problems)
		}
	}
	if n := app.count(`SELECT count(*) FROM imports`); n != before {
		t.Errorf("a refused file was recorded: %d imports, were %d", n, before)
	}

	// February's extract: A84002 has 6,000 patients.
	feb := strings.ReplaceAll(string(national), ",01JAN2021,", ",01FEB2021,")
	feb = strings.Replace(feb, "A84002,NE65 7UW,ALL,ALL,5903", "A84002,NE65 7UW,ALL,ALL,6000", 1)
	resp = admin.upload("/admin/imports/list-sizes", "", "february.csv", []byte(feb))
	wantStatus(t, resp, http.StatusSeeOther)
	report = doc(t, admin.get(resp.Header.Get("Location")))
	if items := report.Find("[data-testid=changed] li").Text(); items != "A84002: 5,903 → 6,000 patients" {
		t.Errorf("changed listed: %q", items)
	}
	history := doc(t, admin.get("/admin/imports"))
	rows := history.Find("[data-testid=list-size-imports] tbody tr")
	if rows.Length() != 2 || !strings.Contains(rows.First().Text(), "february.csv") || !strings.Contains(rows.First().Text(), "Ada Admin") ||
		!strings.Contains(rows.First().Text(), "List of 1 February 2021: 0 new, 1 changed, 6,522 unchanged, 135 unknown practices") {
		t.Errorf("history: %d rows, first %q", rows.Length(), strings.Join(strings.Fields(rows.First().Text()), " "))
	}

	buyer := app.clientAs("buyer.16c@example.nhs.uk")
	practice := doc(t, admin.get("/practices/A84002"))
	hist := practice.Find("[data-testid=list-size-history] tbody tr")
	if hist.Length() != 2 || !strings.Contains(hist.First().Text(), "1 February 2021") || !strings.Contains(hist.First().Text(), "6,000") ||
		!strings.Contains(hist.First().Text(), "+97") || !strings.Contains(hist.Last().Text(), "5,903") {
		t.Errorf("A84002's history: %q", strings.Join(strings.Fields(hist.Text()), " "))
	}
	if got := practice.Find("[data-testid=list-size]").Text(); got != "6,000 (February 2021)" {
		t.Errorf("A84002's list size %q", got)
	}
	// Only admins import.
	t.Run("OnlyAdminsImport", func(t *testing.T) {
		for _, path := range []string{"/admin/imports", "/admin/imports/list-sizes"} {
			if resp := buyer.get(path); resp.StatusCode != http.StatusForbidden {
				t.Errorf("a buyer GET %s: %d", path, resp.StatusCode)
			}
		}
		if resp := buyer.upload("/admin/imports/list-sizes", "", "feb.csv", []byte(feb)); resp.StatusCode != http.StatusForbidden {
			t.Errorf("a buyer's upload: %d", resp.StatusCode)
		}
	})
}

// An ODS upload that closes a practice with live services proposes the
// change on its CCG's open return; the buyer reports it (the date filled
// in) or dismisses it; the reviewer sees what became of each; a reviewer
// cannot decide one, nor another CCG's buyer.
func TestODSProposalsThroughThePages(t *testing.T) {
	t.Parallel()
	app := newReturnApp(t)
	admin := app.clientAs("admin@example.nhs.uk")
	buyer := app.clientAs("buyer.16c@example.nhs.uk")
	reviewer := app.clientAs("reviewer@example.nhs.uk")
	other := app.clientAs("buyer.03q@example.nhs.uk")

	row := func(code, name, postcode string) string {
		return `"` + code + `","` + name + `","Y63","Q74","","","","","","` + postcode + `","19740401","20261120","C","B","16C","20130401","","","","","","0","","16C","","4",""`
	}
	file := row("A81004", "ACKLAM MEDICAL CENTRE", "TS5 8SB") + "\n" + row("A81005", "SPRINGWOOD SURGERY", "TS14 7DJ") + "\n"
	// The first import proposes both closures; the second finds them made.
	for i, want := range []string{"Proposals to CCGs 2", "Proposals to CCGs 0"} {
		resp := admin.upload("/admin/imports/ods", "", "epraccur.csv", []byte(file))
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("ODS upload: %d %s", resp.StatusCode, text(t, resp))
		}
		report := summaryText(doc(t, admin.get(resp.Header.Get("Location"))).Find("[data-testid=import-report]"))
		if !strings.Contains(report, "Practices updated") || !strings.Contains(report, want) {
			t.Errorf("ODS report of import %d, want %q: %s", i+1, want, report)
		}
	}
	if n := app.count(`SELECT count(*) FROM practice_proposals WHERE ccg_code = '16C'`); n != 2 {
		t.Fatalf("%d proposals after two imports of the file, want 2", n)
	}
	ret := "/ccgs/16C/returns/2026-11"
	page := doc(t, buyer.get(ret))
	cards := page.Find("[data-testid=proposal]")
	if cards.Length() != 2 || !strings.Contains(cards.First().Text(), "ODS shows ACKLAM MEDICAL CENTRE (A81004) closed on 20 November 2026: report a merger or a cessation") {
		t.Fatalf("the return's proposals: %q", cards.Text())
	}
	href, _ := cards.First().Find("a").Attr("href")
	form := doc(t, buyer.get(href))
	if d, _ := form.Find("#date-day").Attr("value"); d != "21" {
		t.Errorf("the date is not filled in with the first day without service: day %q", d)
	}
	version, _ := form.Find("input[name=version]").First().Attr("value")

	// Not decided by a reviewer, nor by 03Q's buyer (404, as if it did not exist).
	if resp := reviewer.post(href+"/confirm", url.Values{"version": {version}, "kind": {"cessation"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a reviewer confirming: %d", resp.StatusCode)
	}
	if resp := other.get(href); resp.StatusCode != http.StatusNotFound {
		t.Errorf("03Q's buyer opening 16C's proposal: %d", resp.StatusCode)
	}
	otherHref := strings.Replace(href, "/ccgs/16C/", "/ccgs/03Q/", 1)
	if resp := other.post(otherHref+"/dismiss", url.Values{"version": {"1"}, "reason": {"x"}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("03Q's buyer dismissing 16C's proposal through 03Q's return: %d", resp.StatusCode)
	}

	// No kind: the NHS error summary, nothing saved.
	lines := app.count(`SELECT count(*) FROM return_lines`)
	resp := buyer.post(href+"/confirm", url.Values{"version": {version}, "date-day": {"21"}, "date-month": {"11"}, "date-year": {"2026"}})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	d := doc(t, resp)
	if links := summaryLinks(d); len(links) != 1 || links[0] != "#kind" || d.Find("#kind-error").Length() != 1 {
		t.Errorf("no kind: summary %v", links)
	}
	if n := app.count(`SELECT count(*) FROM return_lines`); n != lines {
		t.Errorf("a refused confirmation saved %d lines", n-lines)
	}
	// No kind and a date that does not exist: both in the summary, the
	// date's problem beside its input (the domain's date field by meaning
	// is the form's date-day), nothing saved.
	resp = buyer.post(href+"/confirm", url.Values{"version": {version}, "date-day": {"31"}, "date-month": {"2"}, "date-year": {"2026"}})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	d = doc(t, resp)
	if links := summaryLinks(d); len(links) != 2 || links[0] != "#kind" || links[1] != "#date-day" || d.Find("#date-day-error").Length() != 1 {
		t.Errorf("no kind, no real date: summary %v", links)
	}
	if n := app.count(`SELECT count(*) FROM return_lines`); n != lines {
		t.Errorf("a refused confirmation saved %d lines", n-lines)
	}
	resp = buyer.post(href+"/confirm", url.Values{"version": {version}, "kind": {"cessation"}, "date-day": {"21"}, "date-month": {"11"}, "date-year": {"2026"}})
	wantRedirect(t, resp, ret)
	if n := app.count(`SELECT count(*) FROM return_lines l JOIN tracker_returns r ON r.id = l.return_id
		WHERE r.ccg_code = '16C' AND l.practice_code = 'A81004' AND l.kind = 'cessation' AND l.effective_date = '2026-11-21'`); n == 0 {
		t.Errorf("no cessation at A81004 dated 21 November 2026")
	}

	// The second, dismissed with a reason.
	page = doc(t, buyer.get(ret))
	var second string
	page.Find("[data-testid=proposal]").Each(func(_ int, s *goquery.Selection) {
		if strings.Contains(s.Text(), "A81005") {
			second, _ = s.Find("a").Attr("href")
		}
	})
	version, _ = page.Find("input[name=version]").First().Attr("value")
	resp = buyer.post(second+"/dismiss", url.Values{"version": {version}, "reason": {""}})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	if links := summaryLinks(doc(t, resp)); len(links) != 1 || links[0] != "#reason" {
		t.Errorf("no reason: %v", links)
	}
	wantRedirect(t, buyer.post(second+"/dismiss", url.Values{"version": {version}, "reason": {"The practice reopened under a new code"}}), ret+"#proposals")

	// The reviewer sees each and what became of it.
	outcomes := doc(t, reviewer.get(ret)).Find("[data-testid=proposal-outcome]")
	seen := strings.Join(strings.Fields(outcomes.Text()), " ")
	if outcomes.Length() != 2 || !strings.Contains(seen, "Reported as a cessation by") || !strings.Contains(seen, "Dismissed by") ||
		!strings.Contains(seen, "The practice reopened under a new code") {
		t.Errorf("the reviewer sees: %q", seen)
	}
	if n := app.count(`SELECT count(*) FROM audit_log WHERE action IN ('proposal.confirm', 'proposal.dismiss')`); n != 2 {
		t.Errorf("%d decisions audited, want 2", n)
	}
}

// summaryText is a summary list as "key value" pairs, one after another.
func summaryText(list *goquery.Selection) string {
	var parts []string
	list.Find(".nhsuk-summary-list__row").Each(func(_ int, row *goquery.Selection) {
		parts = append(parts, strings.TrimSpace(row.Find("dt").Text())+" "+strings.TrimSpace(row.Find("dd").Text()))
	})
	return strings.Join(parts, "; ")
}
