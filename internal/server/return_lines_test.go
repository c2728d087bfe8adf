package server

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// A line is changed through check your answers' Change link, on its own
// page, under the return's version, and removed after a confirmation.
func TestReturnLineEditedAndRemoved(t *testing.T) {
	t.Parallel()
	app := newReturnApp(t)
	buyer := app.client()
	buyer.signIn("buyer.16c@example.nhs.uk")
	form := app.cessation(versionOf(t, buyer, novReturn), "20")
	form.Set("practice", app.practice)
	wantRedirect(t, buyer.post(novReturn+"/lines", form), novReturn)
	var lineID string
	if err := app.pool.QueryRow(context.Background(), `SELECT id::text FROM return_lines`).Scan(&lineID); err != nil {
		t.Fatal(err)
	}
	edit := novReturn + "/lines/" + lineID + "/edit"

	d := doc(t, buyer.get(novReturn+"/check"))
	change := d.Find(`[data-testid=check-answers] a[href="` + edit + `"]`)
	if hidden := change.Find(".nhsuk-u-visually-hidden").Text(); !strings.Contains(hidden, "change 1") || !strings.Contains(hidden, app.service) {
		t.Errorf("the Change link's hidden text %q does not name the line", hidden)
	}

	d = doc(t, buyer.get(edit))
	if d.Find("input[name=kind][value=cessation][checked]").Length() != 1 ||
		d.Find("select#cessation-instance option[selected][value='"+app.service+"']").Length() != 1 {
		t.Error("the edit page does not show the line as it is")
	}
	if v, _ := d.Find("#date-day").Attr("value"); v != "20" {
		t.Errorf("the edit page's day is %q, want 20", v)
	}
	stale := versionOf(t, buyer, edit)
	moved := url.Values{"version": {stale}, "kind": {"cessation"}, "cessation-instance": {app.service},
		"date-day": {"22"}, "date-month": {"11"}, "date-year": {"2026"}, "note": {"two days later"}}
	wantRedirect(t, buyer.post(edit, moved), novReturn+"/check")
	if n := app.count(`SELECT count(*) FROM return_lines WHERE effective_date = '2026-11-22' AND note = 'two days later'`); n != 1 {
		t.Error("the edit was not saved")
	}
	if n := app.count(`SELECT count(*) FROM audit_log WHERE action = 'return.edit_line'`); n != 1 {
		t.Errorf("%d audit records of the edit, want 1", n)
	}

	t.Run("ErrStaleVersion", func(t *testing.T) {
		again := url.Values{}
		for k, v := range moved {
			again[k] = v
		}
		again.Set("date-day", "25")
		resp := buyer.post(edit, again)
		wantStatus(t, resp, http.StatusConflict)
		d := doc(t, resp)
		if s := d.Find(".nhsuk-error-summary").Text(); !strings.Contains(s, "changed by someone else") {
			t.Errorf("a stale edit says %q", s)
		}
		// The line is shown as it is now, not as the stale editor typed it.
		if v, _ := d.Find("#date-day").Attr("value"); v != "22" {
			t.Errorf("after a stale edit the day shown is %q, want the saved 22", v)
		}
		if n := app.count(`SELECT count(*) FROM return_lines WHERE effective_date = '2026-11-25'`); n != 0 {
			t.Error("a stale edit overwrote the line")
		}
	})
	t.Run("ErrDateNotADate", func(t *testing.T) {
		bad := url.Values{"version": {versionOf(t, buyer, edit)}, "kind": {"cessation"}, "cessation-instance": {app.service},
			"date-day": {"31"}, "date-month": {"2"}, "date-year": {"2026"}}
		resp := buyer.post(edit, bad)
		wantStatus(t, resp, http.StatusBadRequest)
		if got := errorSummary(doc(t, resp)); !strings.Contains(got["#date-day"], "does not exist") {
			t.Errorf("error summary %v", got)
		}
	})

	remove := novReturn + "/lines/" + lineID + "/delete"
	d = doc(t, buyer.get(remove))
	if h1 := d.Find("h1").Text(); h1 != "Remove change 1?" || !strings.Contains(d.Find("[data-testid=line-to-remove]").Text(), app.service) {
		t.Errorf("the confirmation says %q", h1)
	}
	if n := app.count(`SELECT count(*) FROM return_lines`); n != 1 {
		t.Fatal("asking removed the line")
	}
	wantRedirect(t, buyer.post(remove, url.Values{"version": {versionOf(t, buyer, remove)}}), novReturn)
	if n := app.count(`SELECT count(*) FROM return_lines`); n != 0 {
		t.Errorf("%d lines after the removal", n)
	}
	// A line no longer on the return has no pages.
	wantStatus(t, buyer.get(edit), http.StatusNotFound)
	wantStatus(t, buyer.get(remove), http.StatusNotFound)
}

// A merger into a practice of another CCG is refused until the buyer
// confirms it, the refusal naming the practice and its CCG; the reviewer
// then sees it flagged.
func TestReturnMergerIntoAnotherCCGNeedsConfirmation(t *testing.T) {
	t.Parallel()
	app := newReturnApp(t)
	var other, otherName, otherCCG string
	if err := app.pool.QueryRow(context.Background(), `SELECT p.code, p.name, c.name FROM practices p JOIN ccgs c ON c.code = p.ccg_code
		WHERE p.ccg_code = '03Q' AND p.close_date IS NULL ORDER BY p.code LIMIT 1`).Scan(&other, &otherName, &otherCCG); err != nil {
		t.Fatal(err)
	}
	buyer := app.client()
	buyer.signIn("buyer.16c@example.nhs.uk")
	merger := url.Values{"version": {versionOf(t, buyer, novReturn)}, "practice": {app.practice}, "kind": {"merger"},
		"merger-targets": {other}, "date-day": {"20"}, "date-month": {"11"}, "date-year": {"2026"}}
	resp := buyer.post(novReturn+"/lines", merger)
	wantStatus(t, resp, http.StatusBadRequest)
	d := doc(t, resp)
	if msg := errorSummary(d)["#merger-other-ccg"]; !strings.Contains(msg, otherName+" ("+other+")") || !strings.Contains(msg, otherCCG) {
		t.Errorf("the refusal %v does not name %s and its CCG", errorSummary(d), other)
	}
	if d.Find("#merger-other-ccg-error").Length() != 1 {
		t.Error("the confirmation's problem is not beside it")
	}
	if n := app.count(`SELECT count(*) FROM return_lines`); n != 0 {
		t.Fatal("an unconfirmed merger into another CCG was saved")
	}
	merger.Set("merger-other-ccg", "yes")
	wantRedirect(t, buyer.post(novReturn+"/lines", merger), novReturn)
	if n := app.count(`SELECT count(*) FROM return_lines WHERE other_ccg_confirmed`); n != 1 {
		t.Fatal("the confirmed merger was not saved with its confirmation")
	}

	reviewer := app.client()
	reviewer.signIn("reviewer@example.nhs.uk")
	checks := doc(t, reviewer.get(novReturn+"/review")).Find("[data-testid=return-line][data-kind=merger] [data-testid=line-checks]").Text()
	if !strings.Contains(checks, "another CCG") || !strings.Contains(checks, otherCCG) {
		t.Errorf("the reviewer's checks %q do not flag the other CCG", checks)
	}
}
