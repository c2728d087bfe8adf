package tracker_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/ledger"
	"ccgtracker/internal/tracker"
)

// The reported case: a migration SI3 → SI6152 on 12 November, then an
// activation of SI6152 the same day. The activation must be refused when
// it is added, beside its service, naming the migration; "check your
// answers" must then find nothing (it used to say the ledger had moved).
func TestAmendRefusesALineThatContradictsAnother(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	must(t, f.add(tracker.LineInput{Kind: tracker.Migration, Practice: "A81001", Instance: f.live, NewInstance: f.planned[0], Date: day(2026, 11, 12)}))
	err := f.add(tracker.LineInput{Kind: tracker.Activation, Practice: "A81001", Instance: f.planned[0], Date: day(2026, 11, 12)})
	if !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("activation of the migration's new service: %v", err)
	}
	if got, want := fieldsOf(err)[tracker.FieldInstance], f.planned[0]+" already goes live in change 1"; got != want {
		t.Errorf("problem %q, want %q", got, want)
	}
	r := f.ret()
	probs, err := tracker.Problems(ctx, f.pool, r)
	must(t, err)
	if len(r.Lines) != 1 || len(probs) != 0 {
		t.Errorf("after the refusal: %d lines, problems %v", len(r.Lines), probs)
	}

	t.Run("EditedUnderItsVersion", func(t *testing.T) {
		r := f.ret()
		id := r.Lines[0].ID
		edited := tracker.LineInput{Kind: tracker.Migration, Practice: "A81001", Instance: f.live, NewInstance: f.planned[0], Date: day(2026, 11, 13), Note: "a day later"}
		must(t, f.store.EditLine(ctx, f.actor, "16C", november, r.Version, id, edited))
		after := f.ret()
		if l := after.Lines[0]; l.ID != id || !l.Date.Equal(day(2026, 11, 13)) || l.Note != "a day later" || after.Version != r.Version+1 {
			t.Errorf("edited line %+v, version %d → %d", l, r.Version, after.Version)
		}
		// A second editor with the page as it was is refused, not applied.
		if err := f.store.EditLine(ctx, f.actor, "16C", november, r.Version, id, edited); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("a stale edit: %v", err)
		}
		// An edit is checked as a new line is: a cessation before go-live.
		bad := tracker.LineInput{Kind: tracker.Cessation, Practice: "A81001", Instance: f.planned[0], Date: day(2026, 11, 13)}
		if err := f.store.EditLine(ctx, f.actor, "16C", november, after.Version, id, bad); fieldsOf(err)[tracker.FieldInstance] == "" {
			t.Errorf("a bad edit: %v", err)
		}
		if err := f.store.EditLine(ctx, f.actor, "16C", november, after.Version, id+999, edited); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("an edit of a line not on the return: %v", err)
		}
	})
}

// A merger into another CCG's practice needs the buyer's confirmation,
// naming the practice and its CCG, and then raises a review check; a
// normal return raises none.
func TestMergerIntoAnotherCCGsPractice(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var other, otherName, otherCCG string
	must(t, f.pool.QueryRow(ctx, `SELECT p.code, p.name, c.name FROM practices p JOIN ccgs c ON c.code = p.ccg_code
		WHERE p.ccg_code = '03Q' AND p.close_date IS NULL ORDER BY p.code LIMIT 1`).Scan(&other, &otherName, &otherCCG))
	must(t, f.add(tracker.LineInput{Kind: tracker.Activation, Practice: "A81001", Instance: f.planned[0], Date: day(2026, 11, 3)}))
	must(t, f.add(tracker.LineInput{Kind: tracker.Activation, Practice: "A81002", Instance: f.planned[1], Date: day(2026, 11, 4)}))
	checks, err := tracker.ReviewChecks(ctx, f.pool, f.ret())
	must(t, err)
	if len(checks) != 0 {
		t.Errorf("a normal return raises checks: %v", checks)
	}

	merger := tracker.LineInput{Kind: tracker.Merger, Practice: "A81004", Targets: []string{other}, Date: day(2026, 11, 20)}
	err = f.add(merger)
	msg := fieldsOf(err)[tracker.FieldOtherCCG]
	if !strings.Contains(msg, otherName+" ("+other+")") || !strings.Contains(msg, otherCCG) {
		t.Errorf("unconfirmed merger into %s: %v (%q)", other, err, msg)
	}
	merger.OtherCCGConfirmed = true
	must(t, f.add(merger))
	r := f.ret()
	checks, err = tracker.ReviewChecks(ctx, f.pool, r)
	must(t, err)
	var found bool
	for _, c := range checks[r.Lines[2].ID] {
		found = found || (strings.Contains(c, "another CCG") && strings.Contains(c, otherCCG))
	}
	if !found || len(checks[r.Lines[0].ID]) != 0 {
		t.Errorf("checks %v: want the merger's other CCG flagged, the activations not", checks)
	}
	// Confirmed, it stays right when checked again (check your answers).
	if probs, err := tracker.Problems(ctx, f.pool, r); err != nil || len(probs) != 0 {
		t.Errorf("the confirmed merger re-checked: %v %v", probs, err)
	}
}

// The downloaded workbook, changed and uploaded back: a row with a line's
// ID changes that line, one emptied of its change removes it, a new row
// adds one; a file with any bad row changes nothing.
func TestWorkbookRoundTripAmends(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	must(t, f.add(tracker.LineInput{Kind: tracker.Activation, Practice: "A81001", Instance: f.planned[0], Date: day(2026, 11, 3)}))
	must(t, f.add(tracker.LineInput{Kind: tracker.Activation, Practice: "A81002", Instance: f.planned[1], Date: day(2026, 11, 4)}))
	r := f.ret()
	keep, drop := r.Lines[0].ID, r.Lines[1].ID

	workbook := func(edit func(x *excelize.File)) []byte {
		t.Helper()
		services, err := ledger.InPeriod(ctx, f.pool, "16C", november.First(), november.Last())
		must(t, err)
		var buf bytes.Buffer
		must(t, tracker.WriteXLSX(&buf, f.ret(), services, nil))
		x, err := excelize.OpenReader(&buf)
		must(t, err)
		edit(x)
		var out bytes.Buffer
		must(t, x.Write(&out))
		return out.Bytes()
	}
	upload := func(file []byte) (map[int]map[string]string, []int, error) {
		t.Helper()
		rows, errs := tracker.ParseChangeRows(bytes.NewReader(file), "return.xlsx")
		ret := f.ret()
		changes, at, amendErrs := tracker.AmendmentOf(ret, rows)
		if len(errs)+len(amendErrs) > 0 {
			t.Fatalf("file problems: %v %v", errs, amendErrs)
		}
		probs, err := f.store.Amend(ctx, f.actor, "16C", november, ret.Version, changes)
		return probs, at, err
	}
	set := func(x *excelize.File, cell string, v any) { must(t, x.SetCellValue(tracker.SheetChanges, cell, v)) }

	t.Run("ARowWithErrorsChangesNothing", func(t *testing.T) {
		before := f.ret()
		file := workbook(func(x *excelize.File) {
			set(x, "G2", "2026-11-05") // a good edit of line 1
			for _, c := range []string{"A", "B", "C", "D", "E", "F", "G", "H", "I"} {
				set(x, c+"3", "") // line 2 removed
			}
			// Row 4: a cessation of a service that never went live.
			set(x, "A4", "cessation")
			set(x, "B4", "A81004")
			set(x, "C4", f.planned[2])
			set(x, "G4", "2026-11-06")
		})
		probs, at, err := upload(file)
		if !apperr.Is(err, apperr.Invalid) || len(probs) != 1 {
			t.Fatalf("a file with a bad row: %v %v", probs, err)
		}
		for i, fields := range probs {
			if at[i] != 4 || fields[tracker.FieldInstance] == "" {
				t.Errorf("problem at row %d: %v, want row 4's service", at[i], fields)
			}
		}
		after := f.ret()
		if after.Version != before.Version || len(after.Lines) != 2 || !after.Lines[0].Date.Equal(day(2026, 11, 3)) {
			t.Errorf("a refused file changed the return: version %d → %d, %d lines", before.Version, after.Version, len(after.Lines))
		}
	})

	t.Run("AmendsRemovesAdds", func(t *testing.T) {
		file := workbook(func(x *excelize.File) {
			set(x, "G2", "2026-11-05")
			set(x, "H2", "went live later")
			for _, c := range []string{"A", "B", "C", "D", "E", "F", "G", "H", "I"} {
				set(x, c+"3", "")
			}
			set(x, "A4", "activation")
			set(x, "B4", "A81004")
			set(x, "C4", f.planned[2])
			set(x, "G4", "2026-11-06")
		})
		probs, _, err := upload(file)
		if err != nil || probs != nil {
			t.Fatalf("the amending file: %v %v", probs, err)
		}
		after := f.ret()
		if len(after.Lines) != 2 {
			t.Fatalf("%d lines after the upload, want 2", len(after.Lines))
		}
		first, added := after.Lines[0], after.Lines[1]
		if first.ID != keep || !first.Date.Equal(day(2026, 11, 5)) || first.Note != "went live later" {
			t.Errorf("line 1 not amended: %+v", first)
		}
		if added.ID == drop || added.InstanceRef != f.planned[2] {
			t.Errorf("line 2 not removed, or row 4 not added: %+v", added)
		}
		// The same workbook downloaded again and uploaded unchanged
		// changes nothing.
		rows, errs := tracker.ParseChangeRows(bytes.NewReader(workbook(func(*excelize.File) {})), "return.xlsx")
		if changes, _, aerrs := tracker.AmendmentOf(after, rows); len(errs)+len(aerrs)+len(changes) != 0 {
			t.Errorf("an unchanged workbook makes changes %+v (%v %v)", changes, errs, aerrs)
		}
	})
}

// Removing a line another needs is refused, naming the line it would make
// wrong: the go-live of a service whose verification stays.
func TestRemovingALineAnotherNeeds(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	must(t, f.add(tracker.LineInput{Kind: tracker.Activation, Practice: "A81001", Instance: f.planned[0], Date: day(2026, 11, 3)}))
	must(t, f.add(tracker.LineInput{Kind: tracker.Verification, Practice: "A81001", Instance: f.planned[0], Date: day(2026, 11, 20)}))
	r := f.ret()
	err := f.store.DeleteLine(ctx, f.actor, "16C", november, r.Version, r.Lines[0].ID)
	if msg := fieldsOf(err)[tracker.FieldInstance]; !strings.HasPrefix(msg, "This would make change 2 wrong: ") {
		t.Errorf("removing the go-live of a verified service: %v (%q)", err, msg)
	}
	if after := f.ret(); len(after.Lines) != 2 || after.Version != r.Version {
		t.Errorf("a refused removal changed the return: %d lines, version %d → %d", len(after.Lines), r.Version, after.Version)
	}
	// The verification first, then the go-live: both go.
	must(t, f.store.DeleteLine(ctx, f.actor, "16C", november, r.Version, r.Lines[1].ID))
	must(t, f.store.DeleteLine(ctx, f.actor, "16C", november, r.Version+1, r.Lines[0].ID))
	if after := f.ret(); len(after.Lines) != 0 {
		t.Errorf("%d lines left", len(after.Lines))
	}
}
