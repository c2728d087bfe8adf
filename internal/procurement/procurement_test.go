package procurement_test

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/order"
	"ccgtracker/internal/org"
	"ccgtracker/internal/paging"
	"ccgtracker/internal/procurement"
)

func TestCreateRules(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cases := []struct {
		name, ccg, title string
		scope            org.Scope
		field            string
	}{
		{"ErrNameMissing", "16C", "   ", f.scope, procurement.FieldName},
		{"ErrNameTooLong", "16C", strings.Repeat("x", 201), f.scope, procurement.FieldName},
		{"ErrCCGOutsideScope", "03Q", "GP IT", f.scope, procurement.FieldCCG},
		{"ErrCCGMissing", "", "GP IT", org.AllCCGs(), procurement.FieldCCG},
		{"ErrCCGUnknown", "99Z", "GP IT", org.AllCCGs(), procurement.FieldCCG},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.Procurements.Create(ctx, f.As(c.scope), c.ccg, c.title)
			wantField(t, c.name, err, c.field)
		})
	}
	if n := f.count("procurements"); n != 0 {
		t.Errorf("refused procurements stored: %d", n)
	}

	p := f.create("  GP clinical system 2027  ")
	if p.Name != "GP clinical system 2027" || p.CCGCode != "16C" || p.Procedure != procurement.NoProcedure || p.Version != 1 || p.CreatedBy != "Bea Buyer" {
		t.Errorf("created: %+v", p)
	}
	if len(p.Steps) != 5 || p.NextStep() != procurement.StepPrepare {
		t.Errorf("steps: %+v, next %s", p.Steps, p.NextStep())
	}
	for _, s := range p.Steps {
		if s.Status != procurement.NotStarted || s.CompletedAt != nil {
			t.Errorf("new step %s: %+v", s.Step, s)
		}
	}
	if got := f.auditActions(p.ID); !slices.Equal(got, []string{"procurement.create"}) {
		t.Errorf("audit: %v", got)
	}
}

func TestPrepareRules(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.create("GP clinical system 2027")
	fc := procurement.FurtherCompetitionOn
	cases := []struct {
		name  string
		proc  procurement.Procedure
		rows  []procurement.CriterionInput
		field string
	}{
		{"ErrProcedureMissing", "", criteria("Functionality", "100"), procurement.FieldProcedure},
		{"ErrProcedureUnknown", "open_tender", criteria("Functionality", "100"), procurement.FieldProcedure},
		{"ErrNoCriteria", fc, criteria("", "", " ", ""), procurement.FieldCriteria},
		{"ErrWeightsNotHundred", fc, criteria("Functionality", "60", "Price", "30"), procurement.FieldCriteria},
		{"ErrWeightsOverHundred", fc, criteria("Functionality", "60", "Price", "50"), procurement.FieldCriteria},
		{"ErrWeightZero", fc, criteria("Functionality", "100", "Price", "0"), procurement.FieldCriterionWeight(2)},
		{"ErrWeightOver100", fc, criteria("Functionality", "101"), procurement.FieldCriterionWeight(1)},
		{"ErrWeightNegative", fc, criteria("Functionality", "110", "Price", "-10"), procurement.FieldCriterionWeight(2)},
		{"ErrWeightNotWholeNumber", fc, criteria("Functionality", "75.5", "Price", "24.5"), procurement.FieldCriterionWeight(1)},
		{"ErrWeightMissing", fc, criteria("Functionality", "100", "Price", ""), procurement.FieldCriterionWeight(2)},
		{"ErrCriterionNameMissing", fc, criteria("Functionality", "60", "", "40"), procurement.FieldCriterionName(2)},
		{"ErrCriterionNameTooLong", fc, criteria(strings.Repeat("x", 201), "100"), procurement.FieldCriterionName(1)},
		{"ErrCriterionNameDuplicate", fc, criteria("Price", "60", " price ", "40"), procurement.FieldCriterionName(2)},
		{"ErrTooManyCriteria", fc, criteria("a", "9", "b", "9", "c", "9", "d", "9", "e", "9", "f", "9", "g", "9", "h", "9", "i", "9", "j", "9", "k", "10"), procurement.FieldCriteria},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := f.Procurements.Prepare(ctx, f.actor, p.ID, p.Version, procurement.PrepareInput{Procedure: c.proc, Criteria: c.rows})
			wantField(t, c.name, err, c.field)
		})
	}
	// The sum is only complained of once every weight is a number.
	err := f.Procurements.Prepare(ctx, f.actor, p.ID, p.Version,
		procurement.PrepareInput{Procedure: fc, Criteria: criteria("Functionality", "x", "Price", "30")})
	if _, ok := fieldsOf(err)[procurement.FieldCriteria]; ok {
		t.Errorf("a sum reported beside a weight that is not a number: %v", fieldsOf(err))
	}
	if got := f.get(p.ID); got.Version != p.Version || got.Procedure != "" || len(got.Criteria) != 0 || got.State(procurement.StepPrepare).Status != procurement.NotStarted {
		t.Errorf("refused Prepare saved something: %+v", got)
	}

	// Blank rows are ignored; the weights make exactly 100.
	err = f.Procurements.Prepare(ctx, f.actor, p.ID, p.Version, procurement.PrepareInput{Procedure: fc,
		Criteria: []procurement.CriterionInput{{Row: 1, Name: "Functionality", Weight: "50"}, {Row: 2}, {Row: 3, Name: "Price", Weight: " 30 "}, {Row: 4, Name: "Support", Weight: "20"}}})
	if err != nil {
		t.Fatal(err)
	}
	got := f.get(p.ID)
	st := got.State(procurement.StepPrepare)
	if got.Procedure != fc || len(got.Criteria) != 3 || got.Criteria[1].Name != "Price" || got.Criteria[1].Weight != 30 ||
		st.Status != procurement.Completed || st.CompletedBy != "Bea Buyer" || st.CompletedAt == nil || !st.CompletedAt.Equal(now) {
		t.Errorf("prepared: %+v %+v", got, st)
	}
	if got.State(procurement.StepEvaluate).Status != procurement.NotStarted || got.NextStep() != procurement.StepReview {
		t.Errorf("after Prepare: evaluate %s, next %s", got.State(procurement.StepEvaluate).Status, got.NextStep())
	}
	if got.Version != p.Version+1 {
		t.Errorf("version %d, want %d", got.Version, p.Version+1)
	}

	// Saving again keeps a criterion whose name stays (its row, so its scores).
	keep := got.Criteria[0].ID
	f.prepare(p.ID, fc, "Functionality", "70", "Support", "30")
	got = f.get(p.ID)
	if len(got.Criteria) != 2 || got.Criteria[0].ID != keep || got.Criteria[0].Weight != 70 || got.Criteria[1].Name != "Support" {
		t.Errorf("criteria after saving again: %+v", got.Criteria)
	}
	if a := f.auditActions(p.ID); len(a) != 3 || a[2] != "procurement.prepare" {
		t.Errorf("audit: %v", a)
	}
}

func TestStepOrder(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.create("Out of order")
	v := p.Version
	// ErrStepBeforePrevious: every step before the one it needs.
	checks := []struct {
		name string
		err  error
	}{
		{"ErrStepBeforePrevious/shortlist", errOf(f.Procurements.AddToShortlist(ctx, f.actor, p.ID, v, "10000-001"))},
		{"ErrStepBeforePrevious/review", f.Procurements.CompleteReview(ctx, f.actor, p.ID, v)},
		{"ErrStepBeforePrevious/evaluate", f.Procurements.SaveScores(ctx, f.actor, p.ID, v, nil, false)},
		{"ErrStepBeforePrevious/manage", f.Procurements.CompleteManage(ctx, f.actor, p.ID, v)},
	}
	_, err := f.Procurements.Award(ctx, f.actor, p.ID, v, award("10000-001"))
	checks = append(checks, struct {
		name string
		err  error
	}{"ErrStepBeforePrevious/award", err})
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			wantCause(t, c.name, c.err, procurement.ErrStepOrder, apperr.Conflict)
		})
	}

	f.prepare(p.ID, procurement.FurtherCompetitionOn, "Functionality", "100")
	f.shortlist(p.ID, "10000-001")
	// Scores before the shortlist is complete; an award before Evaluate.
	wantCause(t, "ErrStepBeforePrevious/scores", f.scores(p.ID, false, map[string][]int{"10000-001": {50}}), procurement.ErrStepOrder, apperr.Conflict)
	f.completeReview(p.ID)
	_, err = f.Procurements.Award(ctx, f.actor, p.ID, f.get(p.ID).Version, award("10000-001"))
	wantCause(t, "ErrStepBeforePrevious/award-before-evaluate", err, procurement.ErrStepOrder, apperr.Conflict)
	if n := f.count("orders"); n != 0 {
		t.Errorf("%d orders created by a refused award", n)
	}

	// ErrStepClosed: Prepare cannot change under a completed shortlist.
	err = f.Procurements.Prepare(ctx, f.actor, p.ID, f.get(p.ID).Version,
		procurement.PrepareInput{Procedure: procurement.DirectAward, Criteria: criteria("Functionality", "100")})
	wantCause(t, "ErrStepClosed/prepare", err, procurement.ErrStepClosed, apperr.Conflict)
	if err := f.scores(p.ID, true, map[string][]int{"10000-001": {50}}); err != nil {
		t.Fatal(err)
	}
	// ... nor the shortlist under a completed evaluation.
	err = errOf(f.Procurements.AddToShortlist(ctx, f.actor, p.ID, f.get(p.ID).Version, "10052-002"))
	wantCause(t, "ErrStepClosed/shortlist", err, procurement.ErrStepClosed, apperr.Conflict)
	err = errOf(f.Procurements.RemoveFromShortlist(ctx, f.actor, p.ID, f.get(p.ID).Version, "10000-001"))
	wantCause(t, "ErrStepClosed/unshortlist", err, procurement.ErrStepClosed, apperr.Conflict)
}

func TestShortlistRules(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.create("Online consultation")
	f.prepare(p.ID, procurement.FurtherCompetitionOn, "Functionality", "100")
	wantField(t, "ErrShortlistEmpty", f.Procurements.CompleteReview(ctx, f.actor, p.ID, f.get(p.ID).Version), procurement.FieldItem)
	cases := []struct{ name, item string }{
		{"ErrShortlistMissing", ""},
		{"ErrShortlistUnknown", "99999-999"},
		{"ErrShortlistNotSolution", "10000-001A001"},          // an Additional Service
		{"ErrShortlistNotSolution/associated", "10000-S-002"}, // an Associated Service
		{"ErrShortlistNotOrderable", "10011-003"},             // unpublished, no price
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := errOf(f.Procurements.AddToShortlist(ctx, f.actor, p.ID, f.get(p.ID).Version, c.item))
			wantField(t, c.name, err, procurement.FieldItem)
		})
	}
	f.shortlist(p.ID, "10052-002", "10000-001")
	err := errOf(f.Procurements.AddToShortlist(ctx, f.actor, p.ID, f.get(p.ID).Version, "10000-001"))
	wantField(t, "ErrShortlistTwice", err, procurement.FieldItem)
	got := f.get(p.ID)
	if len(got.Shortlist) != 2 || got.Shortlist[0].ItemID != "10000-001" || got.Shortlist[0].SupplierName == "" {
		t.Errorf("shortlist by name: %+v", got.Shortlist)
	}

	// Searching the catalogue offers solutions only, marking the shortlisted.
	res, err := procurement.Candidates(ctx, f.pool, got, "emis", paging.Page{Number: 1, Size: 50})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range res.Rows {
		if c.Kind != org.KindSolution {
			t.Errorf("candidate %s is a %s", c.ID, c.Kind)
		}
		if c.ID == "10000-001" && (!c.Shortlisted || !c.Orderable()) {
			t.Errorf("Emis Web GP: %+v", c)
		}
		ids = append(ids, c.ID)
	}
	if !slices.Contains(ids, "10000-001") || !slices.Contains(ids, "10000-002") {
		t.Errorf("search for emis found %v", ids)
	}

	// Completing, then changing the shortlist, reopens the step.
	f.completeReview(p.ID)
	if err := errOf(f.Procurements.RemoveFromShortlist(ctx, f.actor, p.ID, f.get(p.ID).Version, "10052-002")); err != nil {
		t.Fatal(err)
	}
	got = f.get(p.ID)
	if len(got.Shortlist) != 1 || got.State(procurement.StepReview).Status != procurement.NotStarted {
		t.Errorf("after removing: %+v %s", got.Shortlist, got.State(procurement.StepReview).Status)
	}
	err = errOf(f.Procurements.RemoveFromShortlist(ctx, f.actor, p.ID, got.Version, "10052-002"))
	wantField(t, "ErrRemoveNotShortlisted", err, procurement.FieldItem)
	want := []string{"procurement.create", "procurement.prepare", "procurement.shortlist_add", "procurement.shortlist_add", "procurement.review", "procurement.shortlist_remove"}
	if a := f.auditActions(p.ID); !slices.Equal(a, want) {
		t.Errorf("audit %v, want %v", a, want)
	}
}

func TestDirectAwardSkipsEvaluate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.create("Stockton GP system")
	// Further competition first, with two shortlisted...
	f.prepare(p.ID, procurement.FurtherCompetitionOn, "Functionality", "100")
	f.shortlist(p.ID, "10000-001", "10052-002")
	// ...then a Direct Award: Evaluate is skipped, and two is one too many.
	f.prepare(p.ID, procurement.DirectAward, "Functionality", "100")
	got := f.get(p.ID)
	if got.State(procurement.StepEvaluate).Status != procurement.Skipped || got.Needs(procurement.StepAward) != procurement.StepReview {
		t.Errorf("direct award: evaluate %s, award needs %s", got.State(procurement.StepEvaluate).Status, got.Needs(procurement.StepAward))
	}
	err := f.Procurements.CompleteReview(ctx, f.actor, p.ID, got.Version)
	wantField(t, "ErrDirectAwardShortlistNotOne/two", err, procurement.FieldItem)
	if err := errOf(f.Procurements.RemoveFromShortlist(ctx, f.actor, p.ID, got.Version, "10052-002")); err != nil {
		t.Fatal(err)
	}
	err = errOf(f.Procurements.AddToShortlist(ctx, f.actor, p.ID, f.get(p.ID).Version, "10052-002"))
	wantField(t, "ErrDirectAwardShortlistNotOne/add", err, procurement.FieldItem)
	f.completeReview(p.ID)
	wantCause(t, "ErrEvaluateSkipped", f.scores(p.ID, true, map[string][]int{"10000-001": {80}}), procurement.ErrStepSkipped, apperr.Conflict)

	// The award needs no evaluation: its default is the one shortlisted.
	got = f.get(p.ID)
	if w := procurement.DefaultWinner(got); w != "10000-001" {
		t.Errorf("default winner %q", w)
	}
	awarded, err := f.Procurements.Award(ctx, f.actor, p.ID, got.Version, award("10000-001"))
	callOff := awarded.CallOffID
	if err != nil {
		t.Fatal(err)
	}
	got = f.get(p.ID)
	if got.CallOffID != callOff || got.WinnerID != "10000-001" || got.State(procurement.StepAward).Status != procurement.Completed || got.NextStep() != procurement.StepManage {
		t.Errorf("awarded: %s %+v", callOff, got)
	}
	o, err := order.Get(ctx, f.pool, f.scope, callOff)
	if err != nil {
		t.Fatal(err)
	}
	wantDesc := "Stockton GP system: Emis Web GP (procurement " + itoa(p.ID) + ")"
	if o.CCGCode != "16C" || o.SupplierID != "10000" || o.Description != wantDesc || !o.Commencement.Equal(dates.Date(2026, 12, 1)) ||
		o.InitialPeriod != 12 || o.MaximumTerm != 36 || o.Status != order.InProgress || o.CreatedBy != "Bea Buyer" {
		t.Errorf("order: %+v", o)
	}
	if len(o.Items) != 1 || o.Items[0].CatalogueItemID != "10000-001" || o.Items[0].UnitPrice.String() != "£1.26" {
		t.Errorf("order items: %+v", o.Items)
	}

	// Manage your contract waits for the order to be completed.
	err = f.Procurements.CompleteManage(ctx, f.actor, p.ID, got.Version)
	wantCause(t, "ErrManageBeforeOrderCompleted", err, procurement.ErrOrderInProgress, apperr.Conflict)
	f.completeOrder(callOff)
	if err := f.Procurements.CompleteManage(ctx, f.actor, p.ID, f.get(p.ID).Version); err != nil {
		t.Fatal(err)
	}
	got = f.get(p.ID)
	if got.NextStep() != "" || !got.OrderSigned() || got.State(procurement.StepManage).CompletedBy != "Bea Buyer" {
		t.Errorf("managed: %+v", got)
	}
	// The award is final.
	_, err = f.Procurements.Award(ctx, f.actor, p.ID, got.Version, award("10000-001"))
	wantCause(t, "ErrAwardTwice", err, procurement.ErrStepClosed, apperr.Conflict)
	want := []string{"procurement.create", "procurement.prepare", "procurement.shortlist_add", "procurement.shortlist_add",
		"procurement.prepare", "procurement.shortlist_remove", "procurement.review", "procurement.award", "procurement.manage"}
	if a := f.auditActions(p.ID); !slices.Equal(a, want) {
		t.Errorf("audit %v, want %v", a, want)
	}
}

// completeOrder funds the order's items, gives each a practice and a date,
// and signs it.
func (f *fixture) completeOrder(callOff string) {
	f.t.Helper()
	get := func() order.Order {
		o, err := order.Get(ctx, f.pool, f.scope, callOff)
		if err != nil {
			f.t.Fatal(err)
		}
		return o
	}
	for _, it := range get().Items {
		if err := f.Orders.SetFunding(ctx, f.actor, callOff, get().Version, it.ID, 1); err != nil {
			f.t.Fatal(err)
		}
		d := dates.Date(2027, 1, 4)
		if err := f.Orders.SaveRecipients(ctx, f.actor, callOff, get().Version, it.ID,
			[]order.RecipientInput{{Practice: "A81001", PlannedDelivery: &d}}); err != nil {
			f.t.Fatal(err)
		}
	}
	if err := f.Orders.Complete(ctx, f.actor, callOff, get().Version); err != nil {
		f.t.Fatal(err)
	}
}

// evaluated is a further competition of three solutions, scored against
// Functionality 45, Price 35 and Support 20.
func (f *fixture) evaluated(t *testing.T) procurement.Procurement {
	p := f.create("Clinical system re-procurement")
	f.prepare(p.ID, procurement.FurtherCompetitionOn, "Functionality", "45", "Price", "35", "Support", "20")
	f.shortlist(p.ID, "10000-001", "10052-002", "10030-001")
	f.completeReview(p.ID)
	if err := f.scores(p.ID, true, map[string][]int{
		"10000-001": {80, 61, 93}, // 3600 + 2135 + 1860 = 7595
		"10052-002": {77, 70, 88}, // 3465 + 2450 + 1760 = 7675
		"10030-001": {90, 45, 58}, // 4050 + 1575 + 1160 = 6785
	}); err != nil {
		t.Fatal(err)
	}
	return f.get(p.ID)
}

func TestEvaluateScoresAndRanking(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.create("Clinical system")
	f.prepare(p.ID, procurement.FurtherCompetitionOff, "Functionality", "45", "Price", "35", "Support", "20")
	f.shortlist(p.ID, "10000-001", "10052-002")
	f.completeReview(p.ID)
	p = f.get(p.ID)
	fn, price := p.Criteria[0].ID, p.Criteria[1].ID
	cases := []struct {
		name, score string
	}{
		{"ErrScoreOutOfRange", "101"},
		{"ErrScoreOutOfRange/negative", "-1"},
		{"ErrScoreNotWholeNumber", "7.5"},
		{"ErrScoreNotWholeNumber/text", "good"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := []procurement.ScoreInput{{ItemID: "10000-001", CriterionID: fn, Score: "80"}, {ItemID: "10052-002", CriterionID: price, Score: c.score}}
			err := f.Procurements.SaveScores(ctx, f.actor, p.ID, p.Version, in, false)
			wantField(t, c.name, err, procurement.FieldScore("10052-002", price))
		})
	}
	if got := f.get(p.ID); len(got.Scores) != 0 || got.Version != p.Version {
		t.Errorf("refused scores saved: %v", got.Scores)
	}
	// A score for a solution not on the shortlist: the form is out of date.
	err := f.Procurements.SaveScores(ctx, f.actor, p.ID, p.Version,
		[]procurement.ScoreInput{{ItemID: "10030-001", CriterionID: fn, Score: "50"}}, false)
	wantCause(t, "ErrScoreNotShortlisted", err, procurement.ErrChanged, apperr.Conflict)

	// 0 and 100 are allowed; saving part of the scores is fine...
	if err := f.scores(p.ID, false, map[string][]int{"10000-001": {0, 100}}); err != nil {
		t.Fatal(err)
	}
	// ...but completing needs them all, and names each missing one.
	err = f.scores(p.ID, true, map[string][]int{"10052-002": {50, 50, 50}})
	wantField(t, "ErrScoresMissing", err, procurement.FieldScore("10000-001", p.Criteria[2].ID))
	if len(fieldsOf(err)) != 1 {
		t.Errorf("missing scores: %v", fieldsOf(err))
	}
	got := f.get(p.ID)
	if len(got.Scores) != 2 || got.State(procurement.StepEvaluate).Status != procurement.NotStarted {
		t.Errorf("scores after a refused completion: %v", got.Scores)
	}
	// A blank clears a score.
	if err := f.Procurements.SaveScores(ctx, f.actor, p.ID, got.Version,
		[]procurement.ScoreInput{{ItemID: "10000-001", CriterionID: fn, Score: " "}}, false); err != nil {
		t.Fatal(err)
	}
	if got := f.get(p.ID); len(got.Scores) != 1 {
		t.Errorf("after clearing one: %v", got.Scores)
	}

	// The weighted ranking, against hand-computed numbers.
	e := f.evaluated(t)
	if e.State(procurement.StepEvaluate).Status != procurement.Completed {
		t.Fatalf("evaluate: %s", e.State(procurement.StepEvaluate).Status)
	}
	r := procurement.Ranking(e)
	want := []struct {
		item, weighted string
		hundredths     int
	}{{"10052-002", "76.75", 7675}, {"10000-001", "75.95", 7595}, {"10030-001", "67.85", 6785}}
	for i, w := range want {
		if r[i].ItemID != w.item || r[i].Hundredths != w.hundredths || r[i].Weighted() != w.weighted || r[i].Rank != i+1 || r[i].Scored != 3 {
			t.Errorf("rank %d: %+v (%s), want %s %s", i+1, r[i], r[i].Weighted(), w.item, w.weighted)
		}
	}
	if d := procurement.DefaultWinner(e); d != "10052-002" {
		t.Errorf("default winner %s, want the top-ranked 10052-002", d)
	}
}

func TestRankingTiesAndFormat(t *testing.T) {
	t.Parallel()
	p := procurement.Procurement{
		Criteria:  []procurement.Criterion{{ID: 1, Name: "A", Weight: 99}, {ID: 2, Name: "B", Weight: 1}},
		Shortlist: []procurement.Solution{{ItemID: "x", Name: "Xylo"}, {ItemID: "y", Name: "Yak"}, {ItemID: "z", Name: "Zed"}},
		Scores: map[procurement.ScoreKey]int{
			{ItemID: "x", CriterionID: 1}: 0, {ItemID: "x", CriterionID: 2}: 5, // 0.05
			{ItemID: "y", CriterionID: 1}: 100, {ItemID: "y", CriterionID: 2}: 100, // 100.00
			{ItemID: "z", CriterionID: 1}: 0, {ItemID: "z", CriterionID: 2}: 5, // 0.05, tied with Xylo
		},
	}
	r := procurement.Ranking(p)
	got := []string{}
	for _, x := range r {
		got = append(got, x.Name+" "+x.Weighted()+" #"+itoa(int64(x.Rank)))
	}
	want := []string{"Yak 100.00 #1", "Xylo 0.05 #2", "Zed 0.05 #2"}
	if !slices.Equal(got, want) {
		t.Errorf("ranking %v, want %v", got, want)
	}
}

func TestAwardCreatesTheOrder(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.evaluated(t)
	cases := []struct {
		name  string
		edit  func(*procurement.AwardInput)
		field string
	}{
		{"ErrAwardWinnerNotShortlisted", func(in *procurement.AwardInput) { in.ItemID = "10000-002" }, procurement.FieldWinner},
		{"ErrAwardWinnerMissing", func(in *procurement.AwardInput) { in.ItemID = "" }, procurement.FieldWinner},
		{"ErrAwardCommencementMissing", func(in *procurement.AwardInput) { in.Commencement = time.Time{} }, procurement.FieldCommencement},
		{"ErrAwardCommencementTooOld", func(in *procurement.AwardInput) { in.Commencement = dates.Date(2026, 8, 23) }, procurement.FieldCommencement},
		{"ErrAwardMaximumTermNotLonger", func(in *procurement.AwardInput) { in.InitialPeriod, in.MaximumTerm = 24, 24 }, procurement.FieldMaximumTerm},
		{"ErrAwardMaximumTermOver36", func(in *procurement.AwardInput) { in.MaximumTerm = 48 }, procurement.FieldMaximumTerm},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := award("10052-002")
			c.edit(&in)
			_, err := f.Procurements.Award(ctx, f.actor, p.ID, p.Version, in)
			wantField(t, c.name, err, c.field)
		})
	}
	if n := f.count("orders"); n != 0 || f.get(p.ID).Version != p.Version {
		t.Errorf("a refused award left %d orders or moved the version", n)
	}

	// The winner need not be the top-ranked.
	awarded, err := f.Procurements.Award(ctx, f.actor, p.ID, p.Version, award("10000-001"))
	callOff := awarded.CallOffID
	if err != nil {
		t.Fatal(err)
	}
	o, err := order.Get(ctx, f.pool, f.scope, callOff)
	if err != nil {
		t.Fatal(err)
	}
	if o.SupplierID != "10000" || len(o.Items) != 1 || o.Items[0].CatalogueItemID != "10000-001" ||
		!strings.HasPrefix(o.Description, "Clinical system re-procurement: Emis Web GP") {
		t.Errorf("order %s: %+v", callOff, o)
	}
	got := f.get(p.ID)
	if got.OrderID == nil || *got.OrderID != o.ID || got.WinnerID != "10000-001" || got.State(procurement.StepAward).CompletedBy != "Bea Buyer" {
		t.Errorf("procurement after the award: %+v", got)
	}
	// The award is one change: the version moves on once.
	if got.Version != p.Version+1 {
		t.Errorf("version %d, want %d", got.Version, p.Version+1)
	}
	// The award fixes the evaluation in place.
	err = f.scores(p.ID, true, map[string][]int{"10000-001": {1, 1, 1}})
	wantCause(t, "ErrStepClosed/evaluate", err, procurement.ErrStepClosed, apperr.Conflict)
}

// An award that fails half-way, after its order is created, leaves
// nothing: no order, no item, no audit record of either, the procurement
// as it was. The failures are provoked with triggers on this test's own
// database, deterministically, inside the award's transaction.
func TestAwardFailingHalfWayLeavesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.evaluated(t)
	exec := func(sql string) {
		t.Helper()
		if _, err := f.pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	wantNothing := func(name string) {
		t.Helper()
		got := f.get(p.ID)
		if got.Version != p.Version || got.OrderID != nil || got.CallOffID != "" || got.State(procurement.StepAward).Status != procurement.NotStarted {
			t.Errorf("%s: the procurement changed: version %d (want %d), order %v, award %s",
				name, got.Version, p.Version, got.OrderID, got.State(procurement.StepAward).Status)
		}
		if n := f.count("orders"); n != 0 {
			t.Errorf("%s: %d orders left", name, n)
		}
		if n := f.count("order_items"); n != 0 {
			t.Errorf("%s: %d order items left", name, n)
		}
		if n := f.count("audit_log WHERE entity_type = 'order' OR action = 'procurement.award'"); n != 0 {
			t.Errorf("%s: %d audit records of the award left", name, n)
		}
	}

	// SystmOne GP's prices are deleted from the catalogue between the
	// award's check (it was orderable) and the solution being added: the
	// order is already created when adding it fails.
	exec(`CREATE FUNCTION delete_prices() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN DELETE FROM catalogue_prices WHERE item_id = '10052-002'; RETURN NULL; END $$`)
	exec(`CREATE TRIGGER delete_prices AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION delete_prices()`)
	_, err := f.Procurements.Award(ctx, f.actor, p.ID, p.Version, award("10052-002"))
	wantField(t, "ErrAwardPriceGone", err, procurement.FieldWinner)
	if msg := fieldsOf(err)[procurement.FieldWinner]; !strings.Contains(msg, "SystmOne GP has no price in the catalogue") {
		t.Errorf("ErrAwardPriceGone: %q", msg)
	}
	wantNothing("price deleted mid-award")
	exec(`DROP TRIGGER delete_prices ON orders`)

	// The last write fails (the award's own audit record): the order and
	// its item, already written, go with it.
	exec(`CREATE FUNCTION refuse_award() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN IF NEW.action = 'procurement.award' THEN RAISE EXCEPTION 'audit log unavailable'; END IF; RETURN NEW; END $$`)
	exec(`CREATE TRIGGER refuse_award BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_award()`)
	_, err = f.Procurements.Award(ctx, f.actor, p.ID, p.Version, award("10052-002"))
	if err == nil || !strings.Contains(err.Error(), "audit log unavailable") {
		t.Errorf("award with the audit log failing: %v", err)
	}
	wantNothing("audit record refused")
	exec(`DROP TRIGGER refuse_award ON audit_log`)

	// Tried again, it goes through in full: one order, with the solution.
	awarded, err := f.Procurements.Award(ctx, f.actor, p.ID, p.Version, award("10052-002"))
	callOff := awarded.CallOffID
	if err != nil {
		t.Fatal(err)
	}
	o, err := order.Get(ctx, f.pool, f.scope, callOff)
	if err != nil {
		t.Fatal(err)
	}
	if f.count("orders") != 1 || len(o.Items) != 1 || o.Items[0].CatalogueItemID != "10052-002" || o.SupplierID != "10052" {
		t.Errorf("award after the failures: %d orders, %s %+v", f.count("orders"), callOff, o)
	}
	got := f.get(p.ID)
	if got.CallOffID != callOff || got.WinnerID != "10052-002" || got.Version != p.Version+1 || got.State(procurement.StepAward).Status != procurement.Completed {
		t.Errorf("procurement after the award: %+v", got)
	}
	if a := f.auditActions(p.ID); a[len(a)-1] != "procurement.award" || slices.Contains(a[:len(a)-1], "procurement.award") {
		t.Errorf("audit %v, want one procurement.award, last", a)
	}
}

func TestStaleVersionRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.create("Two people")
	in := procurement.PrepareInput{Procedure: procurement.FurtherCompetitionOn, Criteria: criteria("Functionality", "100")}
	if err := f.Procurements.Prepare(ctx, f.actor, p.ID, p.Version, in); err != nil {
		t.Fatal(err)
	}
	// The same version again: someone saved in between.
	err := f.Procurements.Prepare(ctx, f.actor, p.ID, p.Version, in)
	wantCause(t, "ErrStaleVersion/prepare", err, procurement.ErrChanged, apperr.Conflict)
	err = errOf(f.Procurements.AddToShortlist(ctx, f.actor, p.ID, p.Version, "10000-001"))
	wantCause(t, "ErrStaleVersion/shortlist", err, procurement.ErrChanged, apperr.Conflict)

	// Two people shortlisting at once from the same page: exactly one wins.
	v := f.get(p.ID).Version
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, item := range []string{"10000-001", "10052-002"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = errOf(f.Procurements.AddToShortlist(ctx, f.actor, p.ID, v, item))
		}()
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Errorf("concurrent shortlisting: %v / %v, want exactly one to succeed", errs[0], errs[1])
	}
	if n := len(f.get(p.ID).Shortlist); n != 1 {
		t.Errorf("%d shortlisted", n)
	}

	// Two awards of the same version at once: one order, one award.
	e := f.evaluated(t)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = f.Procurements.Award(ctx, f.actor, e.ID, e.Version, award("10052-002"))
		}()
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Errorf("concurrent awards: %v / %v, want exactly one to succeed", errs[0], errs[1])
	}
	for _, err := range errs {
		if err != nil {
			wantCause(t, "ErrStaleVersion/award", err, procurement.ErrChanged, apperr.Conflict)
		}
	}
	if n := f.count("orders"); n != 1 {
		t.Errorf("%d orders after two concurrent awards, want 1", n)
	}
}

func TestOtherCCGRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.evaluated(t)
	other := org.OnlyCCG("03Q")
	notFound := func(name string, err error) {
		t.Helper()
		if !apperr.Is(err, apperr.NotFound) {
			t.Errorf("%s: %v, want NotFound", name, err)
		}
	}
	_, err := procurement.Get(ctx, f.pool, other, p.ID)
	notFound("get", err)
	notFound("prepare", f.Procurements.Prepare(ctx, f.As(other), p.ID, p.Version,
		procurement.PrepareInput{Procedure: procurement.DirectAward, Criteria: criteria("x", "100")}))
	notFound("shortlist", errOf(f.Procurements.AddToShortlist(ctx, f.As(other), p.ID, p.Version, "10000-002")))
	notFound("unshortlist", errOf(f.Procurements.RemoveFromShortlist(ctx, f.As(other), p.ID, p.Version, "10000-001")))
	notFound("review", f.Procurements.CompleteReview(ctx, f.As(other), p.ID, p.Version))
	notFound("scores", f.Procurements.SaveScores(ctx, f.As(other), p.ID, p.Version, nil, true))
	_, err = f.Procurements.Award(ctx, f.As(other), p.ID, p.Version, award("10052-002"))
	notFound("award", err)
	notFound("manage", f.Procurements.CompleteManage(ctx, f.As(other), p.ID, p.Version))
	if n := f.count("orders"); n != 0 {
		t.Errorf("%d orders made for another CCG's buyer", n)
	}
	if got := f.get(p.ID); got.Version != p.Version {
		t.Errorf("version moved to %d", got.Version)
	}

	res, err := procurement.List(ctx, f.pool, other, paging.Page{Number: 1, Size: 25})
	if err != nil || res.Total != 0 {
		t.Errorf("03Q lists %d (%v)", res.Total, err)
	}
	res, err = procurement.List(ctx, f.pool, org.AllCCGs(), paging.Page{Number: 1, Size: 25})
	if err != nil || res.Total != 1 || res.Rows[0].CCGName == "" || res.Rows[0].NextStep != procurement.StepAward || res.Rows[0].Procedure != procurement.FurtherCompetitionOn {
		t.Errorf("all CCGs list: %+v (%v)", res, err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
