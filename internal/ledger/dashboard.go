package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/postgres"
)

// DueToGoLive lists the CCG's planned services whose planned go-live (M1)
// is on or before by (the end of the month, for a buyer's dashboard):
// those overdue first, at most limit of them, and how many there are in
// all. It reads the (ccg_code, planned_m1) index of planned services
// (migration 000013), one query however many there are.
func DueToGoLive(ctx context.Context, db postgres.Querier, ccgCode string, by time.Time, limit int) ([]Instance, int, error) {
	rows, err := db.Query(ctx, `SELECT `+instanceColumns+`, count(*) OVER ()`+instanceFrom+`
		WHERE si.ccg_code = $1 AND si.state = 'planned' AND si.planned_m1 <= $2
		ORDER BY si.planned_m1, p.name, si.id LIMIT $3`, ccgCode, by, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("services due to go live at %s: %w", ccgCode, err)
	}
	total := 0
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Instance, error) { return scanInstanceAnd(row, &total) })
	if err != nil {
		return nil, 0, fmt.Errorf("services due to go live at %s: %w", ccgCode, err)
	}
	return out, total, nil
}
