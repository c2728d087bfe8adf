package nightly

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/postgres"
)

// RunRecord is one recorded run, for admins.
type RunRecord struct {
	ID           int64
	BusinessDate time.Time
	StartedAt    time.Time
	FinishedAt   *time.Time
	Outcome      string
	Issued       int
	Flagged      int
	Reminders    int
	Ceased       int
	Error        string
	TriggeredBy  string
}

// Runs returns the latest runs, newest first.
func Runs(ctx context.Context, db postgres.Querier, limit int) ([]RunRecord, error) {
	rows, err := db.Query(ctx, `
		SELECT r.id, r.business_date, r.started_at, r.finished_at, r.outcome, r.issued, r.flagged, r.reminders, r.ceased,
		       r.error, coalesce(u.name, 'Schedule')
		FROM job_runs r LEFT JOIN users u ON u.id = r.triggered_by
		ORDER BY r.started_at DESC, r.id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("job runs: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[RunRecord])
}
