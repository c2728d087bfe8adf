package procurement_test

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/org"
	"ccgtracker/internal/procurement"
	"ccgtracker/internal/testkit"
)

// now is the day the tests stand on.
var now = testkit.OrderDay

var ctx = context.Background()

// fixture is testkit's database, where Bea Buyer, a buyer of 16C, works
// on procurements on a clock standing at testkit.OrderDay.
type fixture struct {
	t *testing.T
	testkit.Buying
	pool  *pgxpool.Pool
	actor org.Actor
	scope org.Scope
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	b := testkit.NewBuying(t)
	return &fixture{t: t, Buying: b, pool: b.Pool, actor: b.Actor, scope: b.Actor.Scope}
}

func (f *fixture) create(name string) procurement.Procurement {
	f.t.Helper()
	p, err := f.Procurements.Create(ctx, f.actor, "16C", name)
	if err != nil {
		f.t.Fatalf("create procurement: %v", err)
	}
	return p
}

func (f *fixture) get(id int64) procurement.Procurement {
	f.t.Helper()
	p, err := procurement.Get(ctx, f.pool, f.scope, id)
	if err != nil {
		f.t.Fatalf("get procurement %d: %v", id, err)
	}
	return p
}

// criteria turns name, weight, name, weight... into form rows.
func criteria(nameWeight ...string) []procurement.CriterionInput {
	var out []procurement.CriterionInput
	for i := 0; i+1 < len(nameWeight); i += 2 {
		out = append(out, procurement.CriterionInput{Row: i/2 + 1, Name: nameWeight[i], Weight: nameWeight[i+1]})
	}
	return out
}

func (f *fixture) prepare(id int64, proc procurement.Procedure, nameWeight ...string) {
	f.t.Helper()
	err := f.Procurements.Prepare(ctx, f.actor, id, f.get(id).Version,
		procurement.PrepareInput{Procedure: proc, Criteria: criteria(nameWeight...)})
	if err != nil {
		f.t.Fatalf("prepare: %v", err)
	}
}

func (f *fixture) shortlist(id int64, items ...string) {
	f.t.Helper()
	for _, it := range items {
		if err := errOf(f.Procurements.AddToShortlist(ctx, f.actor, id, f.get(id).Version, it)); err != nil {
			f.t.Fatalf("shortlist %s: %v", it, err)
		}
	}
}

func (f *fixture) completeReview(id int64) {
	f.t.Helper()
	if err := f.Procurements.CompleteReview(ctx, f.actor, id, f.get(id).Version); err != nil {
		f.t.Fatalf("complete review: %v", err)
	}
}

// scores enters scores as item -> the score for each criterion in order.
func (f *fixture) scores(id int64, complete bool, byItem map[string][]int) error {
	p := f.get(id)
	var in []procurement.ScoreInput
	for item, scores := range byItem {
		for i, s := range scores {
			in = append(in, procurement.ScoreInput{ItemID: item, CriterionID: p.Criteria[i].ID, Score: strconv.Itoa(s)})
		}
	}
	return f.Procurements.SaveScores(ctx, f.actor, id, p.Version, in, complete)
}

// award is a valid award of the item, on the term of testkit's order
// details: from 1 December 2026, 12 months initially and 36 at most.
func award(item string) procurement.AwardInput {
	d := testkit.OrderDetails()
	return procurement.AwardInput{ItemID: item, Commencement: d.Commencement, InitialPeriod: d.InitialPeriod, MaximumTerm: d.MaximumTerm}
}

func (f *fixture) count(table string) int {
	f.t.Helper()
	var n int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

func (f *fixture) auditActions(id int64) []string {
	f.t.Helper()
	rows, err := f.pool.Query(ctx, `SELECT action FROM audit_log WHERE entity_type = 'procurement' AND entity_id = $1 ORDER BY id`, strconv.FormatInt(id, 10))
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			f.t.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

// errOf is the error of a command that also returns what it did.
func errOf[T any](_ T, err error) error { return err }

func fieldsOf(err error) map[string]string {
	var e *apperr.Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// wantField checks that err is an Invalid error about field.
func wantField(t *testing.T, name string, err error, field string) {
	t.Helper()
	if !apperr.Is(err, apperr.Invalid) || fieldsOf(err)[field] == "" {
		t.Errorf("%s: err = %v (fields %v), want an Invalid error on %s", name, err, fieldsOf(err), field)
	}
}

// wantCause checks that err is a refusal with the sentinel cause.
func wantCause(t *testing.T, name string, err, cause error, code apperr.Code) {
	t.Helper()
	if !errors.Is(err, cause) || !apperr.Is(err, code) {
		t.Errorf("%s: err = %v, want %v (%s)", name, err, cause, code)
	}
}
