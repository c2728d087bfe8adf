package tracker_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/org"
	"ccgtracker/internal/tracker"
)

// odsRow is a row of an ODS practice file (epraccur, 27 fields) for a
// practice of 16C as the seed has it, with a close date and status.
func odsRow(code, name, postcode, closeDate, status, commissioner string) string {
	return fmt.Sprintf(`"%s","%s","Y63","Q74","","","","","","%s","19740401","%s","%s","B","%s","20130401","","","","","","0","","%s","","4",""`,
		code, name, postcode, closeDate, status, commissioner, commissioner)
}

// closures is the ODS file the tests import: ACKLAM MEDICAL CENTRE and
// QUEENS PARK MEDICAL CENTRE closed on 10 December 2026, and a new practice
// opened in 16C on 1 December.
var closures = strings.Join([]string{
	odsRow("A81004", "ACKLAM MEDICAL CENTRE", "TS5 8SB", "20261210", "C", "16C"),
	odsRow("A81002", "QUEENS PARK MEDICAL CENTRE", "TS18 2AW", "20261210", "C", "16C"),
	strings.Replace(odsRow("A89999", "NEW TEES PRACTICE", "TS1 1AA", "", "A", "16C"), `"19740401"`, `"20261201"`, 1),
}, "\n") + "\n"

func importODS(t *testing.T, f *fixture, at time.Time) int {
	t.Helper()
	_, _, made, err := f.at(at).ImportODS(ctx, org.System(), "epraccur.csv", strings.NewReader(closures))
	if err != nil {
		t.Fatal(err)
	}
	return made
}

func proposals(t *testing.T, f *fixture) map[string]tracker.Proposal {
	t.Helper()
	list, err := tracker.ProposalsFor(ctx, f.pool, f.ret())
	must(t, err)
	out := map[string]tracker.Proposal{}
	for _, p := range list {
		out[p.PracticeCode] = p
	}
	return out
}

// An ODS closure of a practice with live services makes one proposal on
// the CCG's open return, however often the file is imported; a practice
// newly opened in the CCG is a note.
func TestODSClosureMakesOneProposal(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if made := importODS(t, f, now); made != 3 {
		t.Errorf("the first import made %d proposals, want 3 (two closures, one note)", made)
	}
	t.Run("ImportedAgainMakesNone", func(t *testing.T) {
		for i := range 2 {
			if made := importODS(t, f, now.Add(time.Duration(i+1)*time.Hour)); made != 0 {
				t.Errorf("import %d made %d more proposals", i+2, made)
			}
		}
		var n int
		must(t, f.pool.QueryRow(ctx, `SELECT count(*) FROM practice_proposals`).Scan(&n))
		if n != 3 {
			t.Errorf("%d proposals after three imports, want 3", n)
		}
	})
	got := proposals(t, f)
	acklam := got["A81004"]
	t.Run("TheClosure", func(t *testing.T) {
		if w := "ODS shows ACKLAM MEDICAL CENTRE (A81004) closed on 10 December 2026: report a merger or a cessation"; acklam.Words() != w {
			t.Errorf("the proposal says %q, want %q", acklam.Words(), w)
		}
		if !acklam.EffectiveDate.Equal(day(2026, 12, 11)) || acklam.CCGCode != "16C" || acklam.Outcome != "" {
			t.Errorf("the proposal: %+v; want the line dated 11 December 2026, the first day without service", acklam)
		}
	})
	t.Run("TheOpeningANote", func(t *testing.T) {
		if note := got["A89999"]; !note.IsNote() || !strings.Contains(note.Words(), "opened on 1 December 2026 in your CCG") {
			t.Errorf("the new practice: %+v (%q)", note, note.Words())
		}
	})
	t.Run("Audited", func(t *testing.T) {
		var audits int
		must(t, f.pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'proposal.make'`).Scan(&audits))
		if audits != 3 {
			t.Errorf("%d proposals audited, want 3", audits)
		}
	})

	// Another CCG's buyer: not found, as a proposal that does not exist.
	t.Run("AnotherCCGs", func(t *testing.T) {
		f := f.on(t)
		other, err := tracker.Get(ctx, f.pool, org.AllCCGs(), "03Q", november)
		must(t, err)
		if _, err := tracker.GetProposal(ctx, f.pool, other, acklam.ID); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("03Q's return asked for 16C's proposal: %v", err)
		}
		if _, err := f.store.ConfirmProposal(ctx, org.UserActor(*f.buyer, org.OnlyCCG("03Q")), "16C", november, f.ret().Version, acklam.ID,
			tracker.ProposalAnswer{Kind: tracker.Cessation, Date: day(2026, 12, 11)}); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("a 03Q buyer confirming 16C's proposal: %v", err)
		}
		if _, err := f.store.ConfirmProposal(ctx, f.actor, "03Q", november, other.Version, acklam.ID,
			tracker.ProposalAnswer{Kind: tracker.Cessation, Date: day(2026, 12, 11)}); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("16C's proposal confirmed on 03Q's return: %v", err)
		}
	})
}

// Confirming a proposal makes its lines with the date filled in, through
// the add-line checks, and records it; dismissing one needs a reason and is
// recorded; neither can happen twice, and a refused answer saves nothing.
func TestConfirmAndDismissProposals(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	importODS(t, f, now)
	got := proposals(t, f)
	acklam, queens := got["A81004"], got["A81002"]

	// Refused: no kind, a merger with no practice, a date before the practice opened.
	for _, tc := range []struct {
		name string
		a    tracker.ProposalAnswer
		want map[string]string
	}{
		{"NoKind", tracker.ProposalAnswer{Date: day(2026, 12, 11)}, map[string]string{tracker.ProposalFieldKind: "Select the kind of change to report"}},
		{"MergerWithNoPractice", tracker.ProposalAnswer{Kind: tracker.Merger, Date: day(2026, 12, 11)}, map[string]string{tracker.ProposalFieldTarget: "Enter the ODS code of the practice it merged into"}},
		{"NoDate", tracker.ProposalAnswer{Kind: tracker.Cessation}, map[string]string{tracker.ProposalFieldDate: "Enter the date of the change"}},
		{"ADateTheLineChecksRefuse", tracker.ProposalAnswer{Kind: tracker.Cessation, Date: day(2026, 12, 20)}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.store.ConfirmProposal(ctx, f.actor, "16C", november, f.on(t).ret().Version, acklam.ID, tc.a)
			fields := fieldsOf(err)
			if !apperr.Is(err, apperr.Invalid) || (tc.want != nil && fmt.Sprint(fields) != fmt.Sprint(tc.want)) || (tc.want == nil && fields[tracker.ProposalFieldDate] == "") {
				t.Errorf("%+v: %v %v, want %v", tc.a, err, fields, tc.want)
			}
		})
	}
	if r := f.ret(); len(r.Lines) != 0 || proposals(t, f)["A81004"].Outcome != "" {
		t.Fatalf("refused answers saved %d lines", len(r.Lines))
	}

	// A cessation: ACKLAM's live continuity service ceases on the 11th, its
	// planned Anywhere Consult is cancelled on the 10th, its last day.
	n, err := f.store.ConfirmProposal(ctx, f.actor, "16C", november, f.ret().Version, acklam.ID,
		tracker.ProposalAnswer{Kind: tracker.Cessation, Date: acklam.EffectiveDate})
	if err != nil || n != 2 {
		t.Fatalf("confirm ACKLAM: %d lines (%v)", n, err)
	}
	r := f.ret()
	kinds := map[tracker.Kind]time.Time{}
	for _, l := range r.Lines {
		if l.PracticeCode != "A81004" {
			t.Errorf("a line at %s", l.PracticeCode)
		}
		kinds[l.Kind] = l.Date
	}
	if !kinds[tracker.Cessation].Equal(day(2026, 12, 11)) || !kinds[tracker.Cancellation].Equal(day(2026, 12, 10)) || len(r.Lines) != 2 {
		t.Errorf("ACKLAM's lines: %+v", r.Lines)
	}
	p := proposals(t, f)["A81004"]
	if p.Outcome != tracker.OutcomeConfirmed || p.OutcomeKind != tracker.Cessation || p.ReturnID == nil || *p.ReturnID != r.ID || p.DecidedBy != "Bea Buyer" {
		t.Errorf("ACKLAM's proposal after confirming: %+v", p)
	}
	if _, err := f.store.ConfirmProposal(ctx, f.actor, "16C", november, f.ret().Version, acklam.ID,
		tracker.ProposalAnswer{Kind: tracker.Cessation, Date: acklam.EffectiveDate}); !apperr.Is(err, apperr.Conflict) {
		t.Errorf("confirmed twice: %v", err)
	}
	// A stale version is refused, as for any edit.
	if err := f.store.DismissProposal(ctx, f.actor, "16C", november, r.Version-1, queens.ID, "Merged last year"); !apperr.Is(err, apperr.Conflict) {
		t.Errorf("dismissed on a stale version: %v", err)
	}

	// Dismissing needs a reason.
	if err := f.store.DismissProposal(ctx, f.actor, "16C", november, f.ret().Version, queens.ID, "  "); fieldsOf(err)[tracker.ProposalFieldReason] == "" {
		t.Errorf("dismissed with no reason: %v", err)
	}
	must(t, f.store.DismissProposal(ctx, f.actor, "16C", november, f.ret().Version, queens.ID, "Reported on last month's return"))
	q := proposals(t, f)["A81002"]
	if q.Outcome != tracker.OutcomeDismissed || q.Reason != "Reported on last month's return" {
		t.Errorf("QUEENS PARK after dismissing: %+v", q)
	}
	var confirms, dismissals int
	must(t, f.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE action = 'proposal.confirm'), count(*) FILTER (WHERE action = 'proposal.dismiss') FROM audit_log`).Scan(&confirms, &dismissals))
	if confirms != 1 || dismissals != 1 {
		t.Errorf("audited: %d confirmations, %d dismissals; want 1 and 1", confirms, dismissals)
	}
	// The note cannot be decided.
	if err := f.store.DismissProposal(ctx, f.actor, "16C", november, f.ret().Version, proposals(t, f)["A89999"].ID, "x"); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("a note dismissed: %v", err)
	}
	// Importing the file again brings neither back.
	if made := importODS(t, f, now.Add(time.Hour)); made != 0 {
		t.Errorf("a decided proposal came back: %d", made)
	}
}

// A practice that moved to another CCG while its services are 16C's is
// proposed to 16C, once; it makes no line (the practice is no longer
// 16C's), so it can only be dismissed.
func TestODSMoveIsProposedToTheCCGOfItsServices(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	move := odsRow("A81001", "THE DENSHAM SURGERY", "TS18 1HU", "", "A", "03Q") + "\n"
	for range 2 {
		if _, _, _, err := f.store.ImportODS(ctx, org.System(), "epraccur.csv", strings.NewReader(move)); err != nil {
			t.Fatal(err)
		}
	}
	p, ok := proposals(t, f)["A81001"]
	if !ok || p.Change != tracker.ProposalMoved || p.Detail != "03Q" || p.CCGCode != "16C" || len(p.Kinds()) != 0 {
		t.Fatalf("the move: %+v (%v)", p, ok)
	}
	var n int
	must(t, f.pool.QueryRow(ctx, `SELECT count(*) FROM practice_proposals WHERE practice_code = 'A81001'`).Scan(&n))
	if n != 1 {
		t.Errorf("%d proposals for the move imported twice", n)
	}
	if _, err := f.store.ConfirmProposal(ctx, f.actor, "16C", november, f.ret().Version, p.ID,
		tracker.ProposalAnswer{Kind: tracker.Cessation, Date: day(2026, 12, 10)}); fieldsOf(err)[tracker.ProposalFieldKind] == "" {
		t.Errorf("a move confirmed as a line: %v", err)
	}
	must(t, f.store.DismissProposal(ctx, f.actor, "16C", november, f.ret().Version, p.ID, "Its agreement ends with the move"))
}
