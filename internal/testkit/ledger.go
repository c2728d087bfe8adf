package testkit

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"ccgtracker/internal/dates"
	"ccgtracker/internal/ledger"
	"ccgtracker/internal/money"
	"ccgtracker/internal/org"
	"ccgtracker/internal/postgres"
)

// Services creates service instances by the actor, at now, in a
// transaction of their own (as an order's completion would in its own),
// each with the history entry change: the ledger a test starts from. It
// returns their ids in the order given.
func Services(t testing.TB, pool *pgxpool.Pool, now time.Time, by org.Actor, change string, ins ...ledger.NewInstance) []int64 {
	t.Helper()
	var ids []int64
	err := postgres.Tx(context.Background(), pool, func(tx pgx.Tx) error {
		var err error
		ids, err = ledger.CreateTx(context.Background(), tx, now, by, change, ins)
		return err
	})
	if err != nil {
		t.Fatalf("create services: %v", err)
	}
	return ids
}

// ConsultScene makes two services at A81001 (list size 4,100) under 16C's
// continuity agreement with EMIS Health (10000), from 1 January 2020:
// Emis Web GP, live and verified since then (£1.26 per patient a year:
// £430.50 a month), and Anywhere Consult (10000-002, £37.92 a month),
// live from 12 October 2026 and not yet verified. It returns the
// agreement's id and Anywhere Consult's.
func ConsultScene(t testing.TB, pool *pgxpool.Pool) (agreement, consult int64) {
	t.Helper()
	if err := pool.QueryRow(context.Background(), `
		INSERT INTO continuity_agreements (ccg_code, supplier_id, start_date, created_at)
		VALUES ('16C', '10000', '2020-01-01', now()) RETURNING id`).Scan(&agreement); err != nil {
		t.Fatalf("agreement: %v", err)
	}
	start := dates.Date(2020, 1, 1)
	live := dates.Date(2026, 10, 12)
	ids := Services(t, pool, time.Now(), org.System(), "test",
		ledger.NewInstance{CCGCode: "16C", PracticeCode: "A81001", ItemID: "10000-001", SupplierID: "10000", AgreementID: &agreement,
			UnitPrice: money.Amount(12600), PricingUnit: "testPatient", TimeUnit: "year", QuantityRule: ledger.QuantityListSize,
			Quantity: 4100, ActualM1: &start, M2: &start, State: ledger.Active},
		ledger.NewInstance{CCGCode: "16C", PracticeCode: "A81001", ItemID: "10000-002", SupplierID: "10000", AgreementID: &agreement,
			UnitPrice: money.Amount(379200), PricingUnit: "testLicence", TimeUnit: "month", QuantityRule: ledger.QuantityFixed,
			Quantity: 1, ActualM1: &live, State: ledger.Active})
	return agreement, ids[1]
}
