package billing_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/billing"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/ledger"
	"ccgtracker/internal/money"
	"ccgtracker/internal/org"
	"ccgtracker/internal/postgres"
	"ccgtracker/internal/postgres/pgtest"
	"ccgtracker/internal/testkit"
)

var ctx = context.Background()

func month(y int, m time.Month) time.Time { return dates.Date(y, m, 1) }

func pounds(t *testing.T, s string) money.Amount {
	t.Helper()
	a, err := money.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// scene makes two services at A81001 (list size 4,100): Emis Web GP under
// a continuity agreement, live and verified since 2020 (£1.26 × 4,100 ÷
// 12 = £430.50 a month), and Anywhere Consult (£37.92 a month) live from
// 12 October 2026 and not yet verified (testkit.ConsultScene).
func scene(t *testing.T) (*pgxpool.Pool, int64) {
	t.Helper()
	pool := pgtest.New(t)
	_, consult := testkit.ConsultScene(t, pool)
	return pool, consult
}

// closeMonth closes the month starting first as the system, at the time
// at, through a Service of its own.
func closeMonth(pool *pgxpool.Pool, at, first time.Time) (int, error) {
	return billing.NewService(pool, testkit.NewClock(at).Now).Close(ctx, org.System(), first)
}

func amounts(t *testing.T, pool *pgxpool.Pool, first time.Time) map[string]money.Amount {
	t.Helper()
	lines, err := billing.Lines(ctx, pool, first, billing.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]money.Amount{}
	for _, l := range lines {
		key := l.ProductID + " " + l.Kind
		if l.Kind == billing.KindCharge && !l.Payable {
			key += " held"
		}
		out[key] += l.Amount
	}
	return out
}

func TestHeldUntilM2ThenReleased(t *testing.T) {
	t.Parallel()
	pool, consult := scene(t)
	// October: 20 of 31 days of £37.92 = £24.4645 → £24.46, held.
	oct := amounts(t, pool, month(2026, 10))
	if oct["10000-002 charge held"] != pounds(t, "24.46") || oct["10000-001 charge"] != pounds(t, "430.50") {
		t.Errorf("October: %v", oct)
	}
	// M2 recorded on 5 December: December's charge is payable, and
	// October's and November's held amounts are released with it.
	if err := postgres.Tx(ctx, pool, func(tx pgx.Tx) error {
		_, err := ledger.ChangeTx(ctx, tx, time.Now(), org.System(), consult, "verified", nil, func(i *ledger.Instance) error {
			m2 := dates.Date(2026, 12, 5)
			i.M2 = &m2
			return nil
		})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	nov := amounts(t, pool, month(2026, 11))
	if nov["10000-002 charge held"] != pounds(t, "37.92") {
		t.Errorf("November: %v", nov)
	}
	dec := amounts(t, pool, month(2026, 12))
	if dec["10000-002 charge"] != pounds(t, "37.92") || dec["10000-002 release"] != pounds(t, "62.38") {
		t.Errorf("December: %v; want £37.92 payable and £24.46 + £37.92 = £62.38 released", dec)
	}
}

func TestClosedMonthIsFrozenAndAdjusted(t *testing.T) {
	t.Parallel()
	pool, consult := scene(t)
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	if _, err := closeMonth(pool, now, month(2026, 11)); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("ErrMonthNotEnded: %v", err)
	}
	n, err := closeMonth(pool, now, month(2026, 10))
	if err != nil || n != 2 {
		t.Fatalf("close October: %d lines (%v)", n, err)
	}
	if _, err := closeMonth(pool, now, month(2026, 10)); !apperr.Is(err, apperr.Conflict) {
		t.Errorf("ErrClosedTwice: %v", err)
	}
	if _, err := closeMonth(pool, time.Date(2027, 1, 5, 0, 0, 0, 0, time.UTC), month(2026, 12)); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("ErrClosedOutOfOrder: %v", err)
	}

	// A back-dated correction: Anywhere Consult went live on 2 October, not
	// the 12th. October is closed: it reads as it was frozen, and November,
	// the first open month, carries the difference.
	later := now.Add(time.Hour)
	if err := postgres.Tx(ctx, pool, func(tx pgx.Tx) error {
		_, err := ledger.ChangeTx(ctx, tx, later, org.System(), consult, "correction", nil, func(i *ledger.Instance) error {
			m1 := dates.Date(2026, 10, 2)
			i.ActualM1 = &m1
			return nil
		})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	oct := amounts(t, pool, month(2026, 10))
	if oct["10000-002 charge held"] != pounds(t, "24.46") {
		t.Errorf("closed October changed: %v", oct)
	}
	// 30 of 31 days: £36.6968 → £36.70; the adjustment is £36.70 − £24.46 = £12.24.
	lines, err := billing.Lines(ctx, pool, month(2026, 11), billing.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var adj []billing.Line
	for _, l := range lines {
		if l.Kind == billing.KindAdjustment {
			adj = append(adj, l)
		}
	}
	if len(adj) != 1 || adj[0].Amount != pounds(t, "12.24") || adj[0].Corrects == nil || !adj[0].Corrects.Equal(month(2026, 10)) {
		t.Fatalf("adjustments in November: %+v", adj)
	}
	// Closing November freezes the adjustment with it: December has none.
	if _, err := closeMonth(pool, time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), month(2026, 11)); err != nil {
		t.Fatal(err)
	}
	dec := amounts(t, pool, month(2026, 12))
	if dec["10000-002 adjustment"] != 0 {
		t.Errorf("the adjustment came twice: %v", dec)
	}
	bySup, byCCG, all, err := billing.Sums(ctx, pool, month(2026, 11), billing.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(bySup) != 1 || len(byCCG) != 1 || all.Adjustments != pounds(t, "12.24") || all.Payable != pounds(t, "430.50") || all.Held != pounds(t, "37.92") {
		t.Errorf("November totals %+v by supplier %+v by CCG %+v", all, bySup, byCCG)
	}
}
