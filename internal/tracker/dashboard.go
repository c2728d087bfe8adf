package tracker

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/postgres"
)

// Worklist is the head of one list of a dashboard: the first returns of
// it, in its order, and how many there are in all. Each list is one
// query (the count comes with the rows, by a window over the same
// filter) read through a partial index of its own (migration 000013).
type Worklist struct {
	Items []WorkItem
	Total int
}

// WorkItem is a return on a worklist, with the moment it has waited
// since: its latest submission (awaiting review), its due date (late) or
// when it was sent back.
type WorkItem struct {
	Return
	Since time.Time
}

// worklist runs a query of returnColumns, the moment it waits since and
// count(*) OVER ().
func worklist(ctx context.Context, db postgres.Querier, what, query string, args ...any) (Worklist, error) {
	rows, err := db.Query(ctx, query, args...)
	if err != nil {
		return Worklist{}, fmt.Errorf("%s: %w", what, err)
	}
	var w Worklist
	_, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (struct{}, error) {
		var it WorkItem
		var err error
		it.Return, err = scanReturnAnd(row, &it.Since, &w.Total)
		w.Items = append(w.Items, it)
		return struct{}{}, err
	})
	if err != nil {
		return Worklist{}, fmt.Errorf("%s: %w", what, err)
	}
	return w, nil
}

// AwaitingReview lists the submitted returns of every CCG, the one that
// has waited longest for a reviewer first: a resubmitted return waits
// from its latest submission. The partial index finds the submitted
// returns (a few per CCG at most), which are then sorted by that moment.
func AwaitingReview(ctx context.Context, db postgres.Querier, limit int) (Worklist, error) {
	return worklist(ctx, db, "returns awaiting review", `SELECT `+returnColumns+`,
		coalesce((SELECT max(s.submitted_at) FROM return_submissions s WHERE s.return_id = tr.id), tr.submitted_at) AS since,
		count(*) OVER ()`+returnFrom+`
		WHERE tr.status = 'submitted'
		ORDER BY since, tr.id LIMIT $1`, limit)
}

// LateNow lists the returns of every CCG still open past their deadline
// (the end of their due day, London), the longest overdue first.
func LateNow(ctx context.Context, db postgres.Querier, now time.Time, limit int) (Worklist, error) {
	return worklist(ctx, db, "late returns", `SELECT `+returnColumns+`, tr.due_date, count(*) OVER ()`+returnFrom+`
		WHERE tr.editable AND tr.deadline <= $1
		ORDER BY tr.due_date, c.name LIMIT $2`, now, limit)
}

// SentBack lists the returns a reviewer sent back that the CCG has not
// submitted again (returned, or a draft since), the longest waiting first.
func SentBack(ctx context.Context, db postgres.Querier, limit int) (Worklist, error) {
	return worklist(ctx, db, "returns sent back", `SELECT `+returnColumns+`, tr.reviewed_at, count(*) OVER ()`+returnFrom+`
		WHERE tr.status IN ('returned', 'draft') AND tr.reviewed_at IS NOT NULL
		ORDER BY tr.reviewed_at, tr.id LIMIT $1`, limit)
}

// AwaitingDate lists the requested changes of the CCG's accepted returns
// that no later line has given an actual date yet (what Pending carries
// onto a return), soonest first, at most limit of them, and how many
// there are.
func AwaitingDate(ctx context.Context, db postgres.Querier, ccgCode string, limit int) ([]Line, int, error) {
	rows, err := db.Query(ctx, `SELECT `+lineColumns+`, count(*) OVER ()`+lineFrom+`
		JOIN tracker_returns tr ON tr.id = l.return_id
		WHERE tr.ccg_code = $1 AND tr.status = 'accepted'
		  AND l.effective_date > (tr.period + interval '1 month' - interval '1 day')::date
		  AND NOT EXISTS (SELECT 1 FROM return_lines c WHERE c.carried_from = l.id)
		ORDER BY l.effective_date, l.id LIMIT $2`, ccgCode, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("requested changes of %s: %w", ccgCode, err)
	}
	total := 0
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Line, error) {
		// Every one is requested: dated after its own return's month.
		return scanLineAnd(row, func(l Line) time.Time { return l.Date.AddDate(0, 0, -1) }, &total)
	})
	if err != nil {
		return nil, 0, fmt.Errorf("requested changes of %s: %w", ccgCode, err)
	}
	return out, total, nil
}
