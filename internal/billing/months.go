package billing

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/dates"
	"ccgtracker/internal/postgres"
)

// ClosedMonth is when and by whom a month was closed.
type ClosedMonth struct {
	At time.Time
	By string
}

// ClosedMonths returns every closed month, by its first day.
func ClosedMonths(ctx context.Context, db postgres.Querier) (map[time.Time]ClosedMonth, error) {
	rows, err := db.Query(ctx, `
		SELECT bm.period, bm.closed_at, coalesce(u.name, 'the system')
		FROM billing_months bm LEFT JOIN users u ON u.id = bm.closed_by`)
	if err != nil {
		return nil, fmt.Errorf("closed months: %w", err)
	}
	out := map[time.Time]ClosedMonth{}
	var p time.Time
	var c ClosedMonth
	if _, err := pgx.ForEachRow(rows, []any{&p, &c.At, &c.By}, func() error {
		out[dates.Of(p)] = c
		return nil
	}); err != nil {
		return nil, fmt.Errorf("closed months: %w", err)
	}
	return out, nil
}

// UnitWord is what a quantity counts ("patients") for a unit of order
// ("per patient"), for explaining a line in words.
func UnitWord(ctx context.Context, db postgres.Querier, unit string) (string, error) {
	var word string
	err := db.QueryRow(ctx, `SELECT range_description FROM pricing_units WHERE description = $1 AND range_description <> '' ORDER BY id DESC LIMIT 1`, unit).Scan(&word)
	if errors.Is(err, pgx.ErrNoRows) {
		return strings.TrimPrefix(unit, "per "), nil
	}
	if err != nil {
		return "", fmt.Errorf("unit of %q: %w", unit, err)
	}
	return word, nil
}
