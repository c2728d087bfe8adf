package tracker_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/ledger"
	"ccgtracker/internal/order"
	"ccgtracker/internal/org"
	"ccgtracker/internal/postgres"
	"ccgtracker/internal/postgres/pgtest"
	"ccgtracker/internal/refdata"
	"ccgtracker/internal/testkit"
	"ccgtracker/internal/tracker"
)

var ctx = context.Background()

// now stands in mid-December 2026: the November return is open.
var now = time.Date(2026, 12, 10, 10, 0, 0, 0, time.UTC)

var november, _ = tracker.ParsePeriod("2026-11")

type fixture struct {
	t        *testing.T
	pool     *pgxpool.Pool
	url      string         // of the fixture's database, to open another pool on it
	store    *tracker.Store // its clock stands at now
	buyer    *int64
	scope    org.Scope
	actor    org.Actor // the buyer, acting on their CCG
	reviewer org.Actor // the buyer's id acting on every CCG, as a reviewer does
	planned  []string  // refs of three planned services of an order of 16C, at A81001, A81002, A81004
	live     string    // a continuity service of A81001, active since 1 January 2020
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	pool, dbURL := pgtest.NewWithURL(t)
	f := &fixture{t: t, pool: pool, url: dbURL, scope: org.OnlyCCG("16C")}
	id := testkit.Buyer(t, pool, "16C")
	f.buyer = &id
	f.actor, f.reviewer = org.UserActor(id, f.scope), org.UserActor(id, org.AllCCGs())
	f.store = tracker.NewStore(pool, testkit.NewClock(now).Now)
	if err := postgres.Tx(ctx, pool, func(tx pgx.Tx) error {
		_, err := ledger.SeedDemoContinuity(ctx, tx, now, refdata.FS(), dates.Date(2020, 1, 1))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// An order of Anywhere Consult from 1 October 2026 for 24 months,
	// planned at three practices from 1 November.
	orderNow := time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC)
	orders := order.NewStore(pool, func() time.Time { return orderNow })
	o, err := orders.Create(ctx, org.Actor{ID: f.buyer, Scope: f.scope}, order.Details{CCGCode: "16C", SupplierID: "10000",
		Description: "Anywhere Consult", Commencement: dates.Date(2026, 10, 1), InitialPeriod: 12, MaximumTerm: 24})
	must(t, err)
	id1 := o.CallOffID()
	_, err = orders.AddItem(ctx, org.Actor{ID: f.buyer, Scope: f.scope}, id1, o.Version, "10000-002")
	must(t, err)
	o, _ = order.Get(ctx, pool, f.scope, id1)
	must(t, orders.SetFunding(ctx, org.Actor{ID: f.buyer, Scope: f.scope}, id1, o.Version, o.Items[0].ID, 1))
	o, _ = order.Get(ctx, pool, f.scope, id1)
	nov1 := dates.Date(2026, 11, 1)
	var in []order.RecipientInput
	for _, code := range []string{"A81001", "A81002", "A81004"} {
		in = append(in, order.RecipientInput{Practice: code, PlannedDelivery: &nov1})
	}
	must(t, orders.SaveRecipients(ctx, org.Actor{ID: f.buyer, Scope: f.scope}, id1, o.Version, o.Items[0].ID, in))
	o, _ = order.Get(ctx, pool, f.scope, id1)
	must(t, orders.Complete(ctx, org.Actor{ID: f.buyer, Scope: f.scope}, id1, o.Version))
	rows, err := pool.Query(ctx, `SELECT 'SI' || id || '-' || practice_code FROM service_instances WHERE order_id IS NOT NULL ORDER BY practice_code`)
	must(t, err)
	f.planned, err = pgx.CollectRows(rows, pgx.RowTo[string])
	must(t, err)
	must(t, pool.QueryRow(ctx, `SELECT 'SI' || id || '-' || practice_code FROM service_instances WHERE agreement_id IS NOT NULL AND practice_code = 'A81001'`).Scan(&f.live))
	if _, err := f.store.Issue(ctx, org.System(), november); err != nil {
		t.Fatal(err)
	}
	return f
}

// on is the fixture for the subtest t: its helpers then fail t.
func (f *fixture) on(t *testing.T) *fixture {
	g := *f
	g.t = t
	return &g
}

func (f *fixture) ret() tracker.Return {
	f.t.Helper()
	r, err := tracker.Get(ctx, f.pool, f.scope, "16C", november)
	must(f.t, err)
	return r
}

// at is a store whose clock stands at t, for a command at another time
// than now.
func (f *fixture) at(t time.Time) *tracker.Store {
	return tracker.NewStore(f.pool, testkit.NewClock(t).Now)
}

func (f *fixture) add(in tracker.LineInput) error {
	return f.store.AddLine(ctx, f.actor, "16C", november, f.ret().Version, in)
}

func day(y int, m time.Month, d int) time.Time { return dates.Date(y, m, d) }

func fieldsOf(err error) map[string]string {
	if e, ok := err.(*apperr.Error); ok {
		return e.Fields
	}
	return nil
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestIssueIsIdempotentWithDueDates(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	n, err := f.store.Issue(ctx, org.System(), november)
	if err != nil || n != 0 {
		t.Fatalf("second issue: %d %v", n, err)
	}
	var count int
	must(t, f.pool.QueryRow(ctx, `SELECT count(*) FROM tracker_returns WHERE period = '2026-11-01'`).Scan(&count))
	if count != 106 {
		t.Errorf("%d returns for November, want one per CCG (106)", count)
	}
	r := f.ret()
	// North East and Yorkshire: day 20; 20 December 2026 is a Sunday.
	if !r.DueDate.Equal(day(2026, 12, 21)) || r.Status != tracker.Issued {
		t.Errorf("16C November return: due %s, %s", dates.Long(r.DueDate), r.Status)
	}
	// An admin's override of the day applies to returns issued after it.
	_, err = f.pool.Exec(ctx, `UPDATE ccgs SET due_day = 5 WHERE code = '16C'`)
	must(t, err)
	dec, _ := tracker.ParsePeriod("2026-12")
	_, err = f.store.Issue(ctx, org.System(), dec)
	must(t, err)
	r, err = tracker.Get(ctx, f.pool, f.scope, "16C", dec)
	must(t, err)
	if !r.DueDate.Equal(day(2027, 1, 5)) {
		t.Errorf("December return with the override: due %s", dates.Long(r.DueDate))
	}
}

func TestLineValidation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var otherCCGService, otherPractice string
	must(t, f.pool.QueryRow(ctx, `SELECT 'SI' || id || '-' || practice_code, practice_code FROM service_instances WHERE ccg_code = '03Q' LIMIT 1`).Scan(&otherCCGService, &otherPractice))
	plannedA := f.planned[0] // A81001
	cases := []struct {
		name  string
		in    tracker.LineInput
		field string
	}{
		{"ErrKindMissing", tracker.LineInput{Practice: "A81001", Date: day(2026, 11, 5)}, tracker.FieldKind},
		{"ErrDateMissing", tracker.LineInput{Kind: tracker.Activation, Practice: "A81001", Instance: plannedA}, tracker.FieldDate},
		{"ErrPracticeNotInCCG", tracker.LineInput{Kind: tracker.Cessation, Practice: otherPractice, Instance: otherCCGService, Date: day(2026, 11, 5)}, tracker.FieldPractice},
		{"ErrPracticeUnknown", tracker.LineInput{Kind: tracker.Cessation, Practice: "Z99999", Instance: f.live, Date: day(2026, 11, 5)}, tracker.FieldPractice},
		{"ErrInstanceNotInCCG", tracker.LineInput{Kind: tracker.Cessation, Practice: "A81001", Instance: otherCCGService, Date: day(2026, 11, 5)}, tracker.FieldInstance},
		{"ErrInstanceOfAnotherPractice", tracker.LineInput{Kind: tracker.Activation, Practice: "A81002", Instance: plannedA, Date: day(2026, 11, 5)}, tracker.FieldInstance},
		{"ErrInstanceMalformed", tracker.LineInput{Kind: tracker.Activation, Practice: "A81001", Instance: "12", Date: day(2026, 11, 5)}, tracker.FieldInstance},
		{"ErrActivationOfActive", tracker.LineInput{Kind: tracker.Activation, Practice: "A81001", Instance: f.live, Date: day(2026, 11, 5)}, tracker.FieldInstance},
		{"ErrCessationOfPlanned", tracker.LineInput{Kind: tracker.Cessation, Practice: "A81001", Instance: plannedA, Date: day(2026, 11, 5)}, tracker.FieldInstance},
		{"ErrCancellationOfActive", tracker.LineInput{Kind: tracker.Cancellation, Practice: "A81001", Instance: f.live, Date: day(2026, 11, 5)}, tracker.FieldInstance},
		{"ErrDateBeforeCommencement", tracker.LineInput{Kind: tracker.Activation, Practice: "A81001", Instance: plannedA, Date: day(2026, 9, 30)}, tracker.FieldDate},
		{"ErrDateAfterOrderEnd", tracker.LineInput{Kind: tracker.Activation, Practice: "A81001", Instance: plannedA, Date: day(2028, 10, 1)}, tracker.FieldDate},
		{"ErrDateBeforePracticeOpened", tracker.LineInput{Kind: tracker.Cessation, Practice: "A81001", Instance: f.live, Date: day(1970, 1, 1)}, tracker.FieldDate},
		{"ErrCessationNotAfterActivation", tracker.LineInput{Kind: tracker.Cessation, Practice: "A81001", Instance: f.live, Date: day(2020, 1, 1)}, tracker.FieldDate},
		{"ErrVerifiedAlready", tracker.LineInput{Kind: tracker.Verification, Practice: "A81001", Instance: f.live, Date: day(2026, 11, 5)}, tracker.FieldInstance},
		{"ErrVerificationOfPlanned", tracker.LineInput{Kind: tracker.Verification, Practice: "A81001", Instance: plannedA, Date: day(2026, 11, 5)}, tracker.FieldInstance},
		{"ErrCorrectionOfMissingDate", tracker.LineInput{Kind: tracker.Correction, Practice: "A81001", Instance: plannedA, Corrects: tracker.CorrectsActualM1, Date: day(2026, 11, 5)}, tracker.FieldCorrects},
		{"ErrCorrectionNothingToCorrect", tracker.LineInput{Kind: tracker.Correction, Practice: "A81001", Instance: f.live, Corrects: "", Date: day(2026, 11, 5)}, tracker.FieldCorrects},
		{"ErrMigrationToALiveService", tracker.LineInput{Kind: tracker.Migration, Practice: "A81001", Instance: f.live, NewInstance: f.live, Date: day(2026, 11, 5)}, tracker.FieldNewInstance},
		{"ErrMergerIntoItself", tracker.LineInput{Kind: tracker.Merger, Practice: "A81001", Targets: []string{"a81001"}, Date: day(2026, 11, 5)}, tracker.FieldTargets},
		{"ErrMergerIntoTwo", tracker.LineInput{Kind: tracker.Merger, Practice: "A81001", Targets: []string{"A81002", "A81004"}, Date: day(2026, 11, 5)}, tracker.FieldTargets},
		{"ErrSplitWithoutTargets", tracker.LineInput{Kind: tracker.Split, Practice: "A81001", Date: day(2026, 11, 5)}, tracker.FieldTargets},
		{"ErrSplitTargetUnknown", tracker.LineInput{Kind: tracker.Split, Practice: "A81001", Targets: []string{"A81002", "Z99999"}, Date: day(2026, 11, 5)}, tracker.FieldTargets},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := f.on(t).add(c.in)
			if !apperr.Is(err, apperr.Invalid) || fieldsOf(err)[c.field] == "" {
				t.Errorf("%s: err = %v, want a problem with %s", c.name, err, c.field)
			}
		})
	}
	if r := f.ret(); len(r.Lines) != 0 || r.Status != tracker.Issued {
		t.Errorf("refused lines left %d lines, status %s", len(r.Lines), r.Status)
	}

	// Lines that check against each other: go live, then verify, in one return.
	must(t, f.add(tracker.LineInput{Kind: tracker.Activation, Practice: "A81001", Instance: plannedA, Date: day(2026, 11, 3)}))
	must(t, f.add(tracker.LineInput{Kind: tracker.Verification, Practice: "A81001", Instance: plannedA, Date: day(2026, 11, 20)}))
	contradictions := []struct {
		name string
		in   tracker.LineInput
	}{
		{"ErrSecondActivation", tracker.LineInput{Kind: tracker.Activation, Practice: "A81001", Instance: plannedA, Date: day(2026, 11, 4)}},
		{"ErrCancelWhatGoesLive", tracker.LineInput{Kind: tracker.Cancellation, Practice: "A81001", Instance: plannedA, Date: day(2026, 11, 4)}},
		{"ErrVerificationBeforeGoLive", tracker.LineInput{Kind: tracker.Verification, Practice: "A81002", Instance: f.planned[1], Date: day(2026, 11, 2)}},
	}
	for _, c := range contradictions {
		t.Run(c.name, func(t *testing.T) {
			if err := f.on(t).add(c.in); !apperr.Is(err, apperr.Invalid) {
				t.Errorf("%s: %v", c.name, err)
			}
		})
	}
	if r := f.ret(); len(r.Lines) != 2 || r.Status != tracker.Draft {
		t.Errorf("after two good lines: %d lines, %s", len(r.Lines), r.Status)
	}
}

func TestSubmitReturnResubmitAccept(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	reviewer := f.reviewer // who reviews does not matter to the domain
	r := f.ret()
	if err := f.store.Submit(ctx, f.actor, "16C", november, r.Version, false); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("ErrEmptySubmission: %v", err)
	}
	must(t, f.add(tracker.LineInput{Kind: tracker.Activation, Practice: "A81001", Instance: f.planned[0], Date: day(2026, 11, 3)}))
	must(t, f.add(tracker.LineInput{Kind: tracker.Cessation, Practice: "A81001", Instance: f.live, Date: day(2026, 11, 16)}))
	must(t, f.add(tracker.LineInput{Kind: tracker.Activation, Practice: "A81002", Instance: f.planned[1], Date: day(2027, 1, 10), Note: "requested"}))
	r = f.ret()
	if err := f.store.Submit(ctx, f.actor, "16C", november, r.Version, true); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("ErrNilWithLines: %v", err)
	}
	if _, err := f.store.Accept(ctx, reviewer, "16C", november, r.Version); !apperr.Is(err, apperr.Conflict) {
		t.Errorf("ErrAcceptDraft: %v", err)
	}
	must(t, f.store.Submit(ctx, f.actor, "16C", november, r.Version, false))
	// A double click: the same version again creates no second submission.
	must(t, f.store.Submit(ctx, f.actor, "16C", november, r.Version, false))
	r = f.ret()
	if r.Status != tracker.Submitted || r.Submissions != 1 || r.SubmittedBy != "Bea Buyer" {
		t.Fatalf("after submit: %s, %d submissions, by %q", r.Status, r.Submissions, r.SubmittedBy)
	}
	if err := f.add(tracker.LineInput{Kind: tracker.Cancellation, Practice: "A81004", Instance: f.planned[2], Date: day(2026, 11, 5)}); !apperr.Is(err, apperr.Conflict) {
		t.Errorf("ErrEditSubmitted: %v", err)
	}
	if err := f.store.ReturnToCCG(ctx, reviewer, "16C", november, r.Version, " ", nil); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("ErrReturnWithoutComment: %v", err)
	}
	must(t, f.store.ReturnToCCG(ctx, reviewer, "16C", november, r.Version, "Check the cessation date",
		map[int64]string{r.Lines[1].ID: "Was it the 15th?"}))
	r = f.ret()
	if r.Status != tracker.Returned || r.ReviewComment != "Check the cessation date" || r.Lines[1].ReviewerComment != "Was it the 15th?" {
		t.Fatalf("returned: %s %q %q", r.Status, r.ReviewComment, r.Lines[1].ReviewerComment)
	}
	must(t, f.store.DeleteLine(ctx, f.actor, "16C", november, r.Version, r.Lines[1].ID))
	must(t, f.add(tracker.LineInput{Kind: tracker.Cessation, Practice: "A81001", Instance: f.live, Date: day(2026, 11, 15)}))
	r = f.ret()
	if r.Status != tracker.Draft {
		t.Errorf("edited after return: %s", r.Status)
	}
	must(t, f.store.Submit(ctx, f.actor, "16C", november, r.Version, false))
	r = f.ret()
	if r.Submissions != 2 {
		t.Errorf("%d submissions kept, want 2", r.Submissions)
	}
	done, err := f.store.Accept(ctx, reviewer, "16C", november, r.Version)
	must(t, err)
	// What it did: the two changes of November applied (the go-live and
	// the second cessation), the requested go-live in January waiting.
	if len(done.Applied) != 2 || done.Applied[0].ID != r.Lines[0].ID || done.Applied[1].ID != r.Lines[2].ID ||
		len(done.Waiting) != 1 || done.Waiting[0].ID != r.Lines[1].ID || done.Services != 2 {
		t.Errorf("accepted: applied %+v, waiting %+v, %d services changed", done.Applied, done.Waiting, done.Services)
	}

	states := map[string]string{}
	rows, err := f.pool.Query(ctx, `SELECT 'SI' || id || '-' || practice_code, state || ' ' || coalesce(actual_m1::text, '-') || ' ' || coalesce(cessation_date::text, '-')
		FROM service_instances WHERE id IN (SELECT id FROM service_instances WHERE practice_code IN ('A81001', 'A81002'))`)
	must(t, err)
	var k, v string
	_, err = pgx.ForEachRow(rows, []any{&k, &v}, func() error { states[k] = v; return nil })
	must(t, err)
	want := map[string]string{
		f.planned[0]: "active 2026-11-03 -",
		f.live:       "active 2020-01-01 2026-11-15", // ceases when the cessation date comes
		f.planned[1]: "planned - -",                  // a requested change waits
	}
	for ref, w := range want {
		if states[ref] != w && (ref != f.live || states[ref] != "ceased 2020-01-01 2026-11-15") {
			t.Errorf("%s is %q, want %q", ref, states[ref], w)
		}
	}
	var history int
	must(t, f.pool.QueryRow(ctx, `SELECT count(*) FROM service_instance_history WHERE return_line_id IS NOT NULL`).Scan(&history))
	if history != 2 {
		t.Errorf("%d history entries tied to return lines, want 2", history)
	}
	r = f.ret()
	if _, err := f.store.Accept(ctx, reviewer, "16C", november, r.Version); !apperr.Is(err, apperr.Conflict) {
		t.Errorf("ErrAcceptTwice: %v", err)
	}
	if err := f.add(tracker.LineInput{Kind: tracker.Cancellation, Practice: "A81004", Instance: f.planned[2], Date: day(2026, 11, 5)}); !apperr.Is(err, apperr.Conflict) {
		t.Errorf("ErrEditAccepted: %v", err)
	}

	// The requested activation comes back on December's return.
	dec, _ := tracker.ParsePeriod("2026-12")
	pending, err := tracker.Pending(ctx, f.pool, "16C", dec)
	if err != nil || len(pending) != 1 || pending[0].InstanceRef != f.planned[1] {
		t.Errorf("pending in December: %+v %v", pending, err)
	}
}

func TestNilReturnAndScope(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.ret()
	must(t, f.store.Submit(ctx, f.actor, "16C", november, r.Version, true))
	r = f.ret()
	if !r.NilReturn || r.Status != tracker.Submitted {
		t.Errorf("nil return: %+v", r)
	}
	for _, c := range []struct {
		name  string
		scope org.Scope
	}{{"AnotherCCG", org.OnlyCCG("03Q")}, {"NoScope", org.Scope{}}} {
		scope := c.scope
		t.Run(c.name, func(t *testing.T) {
			if _, err := tracker.Get(ctx, f.pool, scope, "16C", november); !apperr.Is(err, apperr.NotFound) {
				t.Errorf("Get in scope %+v: %v", scope, err)
			}
			if err := f.store.AddLine(ctx, org.UserActor(*f.buyer, scope), "16C", november, r.Version, tracker.LineInput{}); !apperr.Is(err, apperr.NotFound) {
				t.Errorf("AddLine in scope %+v: %v", scope, err)
			}
		})
	}
}

// Two buyers add a line to the same version at once: one wins, the other
// is told the return changed. Nothing is lost silently.
func TestConcurrentEditsOneWins(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.ret()
	ins := []tracker.LineInput{
		{Kind: tracker.Activation, Practice: "A81001", Instance: f.planned[0], Date: day(2026, 11, 3)},
		{Kind: tracker.Activation, Practice: "A81002", Instance: f.planned[1], Date: day(2026, 11, 4)},
		{Kind: tracker.Activation, Practice: "A81004", Instance: f.planned[2], Date: day(2026, 11, 5)},
	}
	errs := make([]error, len(ins))
	var wg sync.WaitGroup
	for i, in := range ins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f.store.AddLine(ctx, f.actor, "16C", november, r.Version, in)
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !apperr.Is(err, apperr.Conflict) || !strings.Contains(apperr.MessageOf(err), "changed by someone else"):
			t.Errorf("loser: %v", err)
		}
	}
	if got := len(f.ret().Lines); ok != 1 || got != 1 {
		t.Errorf("%d adds succeeded, %d lines saved; want 1 and 1", ok, got)
	}

	// Accepting while the buyer edits: the buyer's save is refused.
	r = f.ret()
	must(t, f.store.Submit(ctx, f.actor, "16C", november, r.Version, false))
	if _, err := f.store.Accept(ctx, f.reviewer, "16C", november, r.Version+1); err != nil {
		t.Fatal(err)
	}
	if err := f.store.AddLine(ctx, f.actor, "16C", november, r.Version+1, ins[2]); !apperr.Is(err, apperr.Conflict) {
		t.Errorf("edit of an accepted return: %v", err)
	}
}

func TestMergerEndsEveryServiceOfThePractice(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	must(t, f.add(tracker.LineInput{Kind: tracker.Merger, Practice: "A81001", Targets: []string{"A81002"}, Date: day(2026, 11, 30)}))
	r := f.ret()
	must(t, f.store.Submit(ctx, f.actor, "16C", november, r.Version, false))
	if _, err := f.store.Accept(ctx, f.reviewer, "16C", november, r.Version+1); err != nil {
		t.Fatal(err)
	}
	var open int
	must(t, f.pool.QueryRow(ctx, `SELECT count(*) FROM service_instances WHERE practice_code = 'A81001' AND state IN ('planned', 'active')`).Scan(&open))
	var ceased, cancelled int
	must(t, f.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE state = 'ceased' AND cessation_date = '2026-11-30'), count(*) FILTER (WHERE state = 'cancelled') FROM service_instances WHERE practice_code = 'A81001'`).Scan(&ceased, &cancelled))
	if open != 0 || ceased != 1 || cancelled != 1 {
		t.Errorf("after the merger: %d open, %d ceased, %d cancelled; want 0, 1 (continuity), 1 (planned)", open, ceased, cancelled)
	}
}

// A nil return sent back to the CCG can become a return with changes.
func TestReturnedNilReturnTakesChanges(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.ret()
	must(t, f.store.Submit(ctx, f.actor, "16C", november, r.Version, true))
	must(t, f.store.ReturnToCCG(ctx, f.reviewer, "16C", november, r.Version+1, "A.N. Practice went live on 3 November", nil))
	must(t, f.add(tracker.LineInput{Kind: tracker.Activation, Practice: "A81001", Instance: f.planned[0], Date: day(2026, 11, 3)}))
	r = f.ret()
	must(t, f.store.Submit(ctx, f.actor, "16C", november, r.Version, false))
	if r = f.ret(); r.NilReturn || r.Submissions != 2 {
		t.Errorf("resubmitted with a change: nil %v, %d submissions", r.NilReturn, r.Submissions)
	}
}

// Migration, correction and split, accepted: what each does to the ledger.
func TestAcceptedMigrationCorrectionAndSplit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// First month: A81002's planned service goes live on 3 November.
	must(t, f.add(tracker.LineInput{Kind: tracker.Activation, Practice: "A81002", Instance: f.planned[1], Date: day(2026, 11, 3)}))
	// A81001 moves from its continuity service to the planned one on 10 November.
	must(t, f.add(tracker.LineInput{Kind: tracker.Migration, Practice: "A81001", Instance: f.live, NewInstance: f.planned[0], Date: day(2026, 11, 10)}))
	// A81004 splits, its patients going to A81002 and A81005: recorded only.
	must(t, f.add(tracker.LineInput{Kind: tracker.Split, Practice: "A81004", Targets: []string{"A81002", "A81005"}, Date: day(2026, 11, 20)}))
	r := f.ret()
	must(t, f.store.Submit(ctx, f.actor, "16C", november, r.Version, false))
	if _, err := f.store.Accept(ctx, f.reviewer, "16C", november, r.Version+1); err != nil {
		t.Fatal(err)
	}

	state := func(ref string) string {
		var s string
		must(t, f.pool.QueryRow(ctx, `SELECT state || ' ' || coalesce(actual_m1::text, '-') || ' ' || coalesce(cessation_date::text, '-')
			FROM service_instances WHERE 'SI' || id || '-' || practice_code = $1`, ref).Scan(&s))
		return s
	}
	want := map[string]string{
		f.live:       "ceased 2020-01-01 2026-11-10",
		f.planned[0]: "active 2026-11-10 -",
		f.planned[1]: "active 2026-11-03 -",
		f.planned[2]: "planned - -", // the split changes nothing
	}
	for ref, w := range want {
		if got := state(ref); got != w {
			t.Errorf("%s: %q, want %q", ref, got, w)
		}
	}
	var audits int
	must(t, f.pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'service.change'`).Scan(&audits))
	if audits != 3 {
		t.Errorf("%d audit records of services changed, want 3", audits)
	}

	// December: the go-live of A81002 was wrong; correct it to 4 November.
	dec, _ := tracker.ParsePeriod("2026-12")
	_, err := f.store.Issue(ctx, org.System(), dec)
	must(t, err)
	decRet, err := tracker.Get(ctx, f.pool, f.scope, "16C", dec)
	must(t, err)
	must(t, f.store.AddLine(ctx, f.actor, "16C", dec, decRet.Version, tracker.LineInput{
		Kind: tracker.Correction, Practice: "A81002", Instance: f.planned[1], Corrects: tracker.CorrectsActualM1, Date: day(2026, 11, 4)}))
	decRet, _ = tracker.Get(ctx, f.pool, f.scope, "16C", dec)
	// December's return is sent once December is over.
	january := time.Date(2027, 1, 4, 10, 0, 0, 0, time.UTC)
	must(t, f.at(january).Submit(ctx, f.actor, "16C", dec, decRet.Version, false))
	if _, err := f.at(january).Accept(ctx, f.reviewer, "16C", dec, decRet.Version+1); err != nil {
		t.Fatal(err)
	}
	if got := state(f.planned[1]); got != "active 2026-11-04 -" {
		t.Errorf("after the correction: %q", got)
	}
}

// A merger ends the practice's services for the lines after it: a later
// activation or cessation of one of them is refused, not silently
// reversed at acceptance.
func TestMergerIsSeenByLaterLines(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	must(t, f.add(tracker.LineInput{Kind: tracker.Merger, Practice: "A81001", Targets: []string{"A81002"}, Date: day(2026, 11, 10)}))
	cases := []struct {
		name string
		in   tracker.LineInput
	}{
		{"ErrActivationAfterMerger", tracker.LineInput{Kind: tracker.Activation, Practice: "A81001", Instance: f.planned[0], Date: day(2026, 11, 15)}},
		{"ErrCessationAfterMerger", tracker.LineInput{Kind: tracker.Cessation, Practice: "A81001", Instance: f.live, Date: day(2026, 11, 20)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := f.on(t).add(c.in); !apperr.Is(err, apperr.Invalid) {
				t.Errorf("%s: %v", c.name, err)
			}
		})
	}
	// Before the merger, a go-live is fine; the merger then ends it.
	must(t, f.add(tracker.LineInput{Kind: tracker.Activation, Practice: "A81001", Instance: f.planned[0], Date: day(2026, 11, 3)}))
}

// A planned service of a terminated order has a cessation date but never
// went live: correcting its cessation is refused with words, not a crash,
// and it cannot go live on or after that date.
func TestTerminatedServiceCannotGoLiveAfterItsEnd(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if _, err := f.pool.Exec(ctx, `UPDATE service_instances SET cessation_date = '2026-11-20' WHERE 'SI' || id || '-' || practice_code = $1`, f.planned[0]); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		in    tracker.LineInput
		field string
	}{
		{"ErrCorrectCessationNeverLive", tracker.LineInput{Kind: tracker.Correction, Practice: "A81001", Instance: f.planned[0], Corrects: tracker.CorrectsCessation, Date: day(2026, 11, 25)}, tracker.FieldCorrects},
		{"ErrActivationAfterCessation", tracker.LineInput{Kind: tracker.Activation, Practice: "A81001", Instance: f.planned[0], Date: day(2026, 11, 21)}, tracker.FieldDate},
		{"ErrVerificationBeforeTerm", tracker.LineInput{Kind: tracker.Correction, Practice: "A81001", Instance: f.live, Corrects: tracker.CorrectsActualM1, Date: day(2019, 12, 1)}, tracker.FieldDate},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := f.on(t).add(c.in)
			if !apperr.Is(err, apperr.Invalid) || fieldsOf(err)[c.field] == "" {
				t.Errorf("%s: %v", c.name, err)
			}
		})
	}
	must(t, f.add(tracker.LineInput{Kind: tracker.Activation, Practice: "A81001", Instance: f.planned[0], Date: day(2026, 11, 19)}))
}

// Submitted on time, sent back and resubmitted after the due date: the
// return stays on time.
func TestResubmissionAfterTheDueDateStaysOnTime(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.ret()
	onTime := time.Date(2026, 12, 18, 12, 0, 0, 0, time.UTC) // due 21 December
	must(t, f.at(onTime).Submit(ctx, f.actor, "16C", november, r.Version, true))
	must(t, f.at(onTime).ReturnToCCG(ctx, f.reviewer, "16C", november, r.Version+1, "Check A81001", nil))
	after := time.Date(2026, 12, 28, 12, 0, 0, 0, time.UTC)
	r = f.ret()
	must(t, f.at(after).Submit(ctx, f.actor, "16C", november, r.Version, true))
	r = f.ret()
	if r.DaysLate(after) != 0 || r.Submissions != 2 || !r.SubmittedAt.Equal(onTime) {
		t.Errorf("resubmitted late: %d days late, %d submissions, submitted at %v", r.DaysLate(after), r.Submissions, r.SubmittedAt)
	}
}

// A return reports its month, so it is sent (a nil return too) and
// accepted only from the 1st of the next month in London: on 31 December
// at 23:59 London it is refused, saying from when; at midnight it goes.
func TestSubmitOnlyOnceTheMonthHasEnded(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	dec, _ := tracker.ParsePeriod("2026-12")
	_, err := f.store.Issue(ctx, org.System(), dec)
	must(t, err)
	get := func() tracker.Return {
		r, err := tracker.Get(ctx, f.pool, f.scope, "16C", dec)
		must(t, err)
		return r
	}
	lastMinute := time.Date(2026, 12, 31, 23, 59, 0, 0, dates.London)
	for _, nilReturn := range []bool{true, false} {
		if !nilReturn {
			// The draft can be filled in during the month.
			must(t, f.store.AddLine(ctx, f.actor, "16C", dec, get().Version,
				tracker.LineInput{Kind: tracker.Activation, Practice: "A81001", Instance: f.planned[0], Date: day(2026, 12, 3)}))
		}
		err := f.at(lastMinute).Submit(ctx, f.actor, "16C", dec, get().Version, nilReturn)
		if !apperr.Is(err, apperr.Invalid) || !strings.Contains(apperr.MessageOf(err), "can be submitted from 1 January 2027") {
			t.Errorf("nil %v: submitted on 31 December: %v", nilReturn, err)
		}
	}
	if r := get(); r.Status != tracker.Draft || r.SubmittedAt != nil || r.Submissions != 0 {
		t.Errorf("after the refusals: %s, submitted at %v, %d submissions", r.Status, r.SubmittedAt, r.Submissions)
	}
	// A return marked submitted during its month by some other path cannot
	// be accepted before the month ends either.
	_, err = f.pool.Exec(ctx, `UPDATE tracker_returns SET status = 'submitted', submitted_at = $1, version = version + 1 WHERE ccg_code = '16C' AND period = '2026-12-01'`, lastMinute)
	must(t, err)
	if _, err := f.at(lastMinute).Accept(ctx, f.reviewer, "16C", dec, get().Version); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("accepted on 31 December: %v", err)
	}
	_, err = f.pool.Exec(ctx, `UPDATE tracker_returns SET status = 'draft', submitted_at = NULL, version = version + 1 WHERE ccg_code = '16C' AND period = '2026-12-01'`)
	must(t, err)

	midnight := time.Date(2027, 1, 1, 0, 0, 0, 0, dates.London)
	must(t, f.at(midnight).Submit(ctx, f.actor, "16C", dec, get().Version, false))
	if _, err := f.at(midnight).Accept(ctx, f.reviewer, "16C", dec, get().Version); err != nil {
		t.Fatal(err)
	}
	if r := get(); r.Status != tracker.Accepted {
		t.Errorf("after the month: %s", r.Status)
	}
}
