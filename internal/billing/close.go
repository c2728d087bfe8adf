package billing

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/audit"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/money"
	"ccgtracker/internal/org"
	"ccgtracker/internal/postgres"
)

// closeLock serialises closing, so two finance officers closing at once
// close the month once.
const closeLock = 7_700_000_002

// Close freezes the lines of the month starting first as they are now:
// from then on the month reads the same whatever the ledger does, and
// later changes to it come as adjustments in the first open month. Months
// close in order, once they have ended; there is no re-opening. The audit
// log records a as the one who closed it; it returns how many lines were
// frozen.
func (s *Service) Close(ctx context.Context, a org.Actor, first time.Time) (int, error) {
	now := s.now()
	if first.AddDate(0, 1, 0).After(dates.Today(now)) {
		return 0, apperr.New(apperr.Invalid, "%s has not ended yet, so it cannot be closed.", first.Format("January 2006"))
	}
	lines := 0
	err := postgres.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, closeLock); err != nil {
			return err
		}
		closed, err := isClosed(ctx, tx, first)
		if err != nil {
			return err
		}
		if closed {
			return apperr.New(apperr.Conflict, "%s is closed already.", first.Format("January 2006"))
		}
		if open, err := FirstOpen(ctx, tx); err != nil {
			return err
		} else if open != nil && !open.Equal(first) {
			return apperr.New(apperr.Invalid, "Months close in order: close %s first.", open.Format("January 2006"))
		}
		// The lines are computed before the month is marked closed, so
		// they are the open month's lines, adjustments included.
		var all []Line
		if err := Each(ctx, tx, first, Filter{}, func(l Line) error { all = append(all, l); return nil }); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO billing_months (period, closed_at, closed_by) VALUES ($1, $2, $3)`, first, now, a.ID); err != nil {
			return fmt.Errorf("close %s: %w", first.Format("2006-01"), err)
		}
		// One COPY for all the lines: one statement (so one bump of the
		// input version), not one round trip per line.
		var total money.Amount
		rows := make([][]any, len(all))
		for i, l := range all {
			rows[i] = []any{first, l.InstanceID, l.Kind, l.Corrects, l.Quantity, l.DaysCharged, l.DaysInMonth, l.Amount.Decimal(), l.Payable, l.Charged.ListDate}
			total += l.Amount
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"billing_lines"},
			[]string{"period", "instance_id", "kind", "corrects", "quantity", "days_charged", "days_in_month", "amount", "payable", "list_size_date"},
			pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("freeze lines: %w", err)
		}
		lines = len(all)
		return audit.Record(ctx, tx, audit.Event{
			At:         now,
			By:         a.ID,
			Action:     "billing.close",
			EntityType: "billing_month",
			EntityID:   first.Format("2006-01"),
			After:      map[string]any{"lines": lines, "total": total.Decimal()},
		})
	})
	return lines, err
}

// Totals is a month's sum for one supplier or CCG.
type Totals struct {
	Code, Name                 string
	Payable, Held, Adjustments money.Amount
}

// Sums adds a month's lines up by supplier and by CCG (each by code),
// computing the month afresh: the pages use Service, which keeps it.
func Sums(ctx context.Context, db postgres.Querier, first time.Time, f Filter) (bySupplier, byCCG []Totals, all Totals, err error) {
	var t tally
	if err := Each(ctx, db, first, f, func(l Line) error { t.add(l); return nil }); err != nil {
		return nil, nil, Totals{}, err
	}
	bySupplier, byCCG, all = t.result()
	return bySupplier, byCCG, all, nil
}
