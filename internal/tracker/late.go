package tracker

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/postgres"
)

// The night's questions about returns (internal/nightly asks them): which
// are late, and whom to remind. Lateness is always the deadline the
// database keeps (tracker_returns.deadline, the end of the due day in
// London) against one moment, so every step of a night agrees.

// FlagLate marks every return not submitted by its deadline as late by
// asOf, recording when it became late (its deadline); a return submitted
// after its deadline but before the night ran is flagged too. Each is
// flagged once.
func FlagLate(ctx context.Context, tx pgx.Tx, asOf time.Time) (int, error) {
	tag, err := tx.Exec(ctx, `
		UPDATE tracker_returns SET late_at = deadline
		WHERE late_at IS NULL AND deadline <= $1
		  AND (submitted_at IS NULL OR submitted_at >= deadline)`, asOf)
	if err != nil {
		return 0, fmt.Errorf("flag late returns: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// Reminder is one buyer to remind of one open return on a business day.
type Reminder struct {
	ReturnID        int64
	CCGCode         string
	CCGName         string
	Period          Period
	DueDate         time.Time
	UserID          int64
	Email, Name     string
	DueSoon         bool // due in three days; otherwise overdue
	DaysAfterDueDay int  // when overdue: the business day less the due date
}

// RemindersDue are the reminders of the business day day: to each active
// buyer of a CCG whose return is open, three days before its due date, the
// day after it was missed, and weekly while it stays open.
func RemindersDue(ctx context.Context, db postgres.Querier, day time.Time) ([]Reminder, error) {
	rows, err := db.Query(ctx, `
		SELECT tr.id, tr.ccg_code, c.name, tr.period, tr.due_date, u.id, u.email, u.name, tr.due_date = $1::date + 3
		FROM tracker_returns tr
		JOIN ccgs c ON c.code = tr.ccg_code
		JOIN users u ON u.ccg_code = tr.ccg_code AND u.role = 'buyer' AND u.active
		WHERE tr.editable
		  AND (tr.due_date = $1::date + 3
		       OR ($1::date > tr.due_date AND ($1::date - tr.due_date - 1) % 7 = 0))
		ORDER BY tr.id, u.id`, day)
	if err != nil {
		return nil, fmt.Errorf("reminders due: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Reminder, error) {
		var r Reminder
		var period time.Time
		err := row.Scan(&r.ReturnID, &r.CCGCode, &r.CCGName, &period, &r.DueDate, &r.UserID, &r.Email, &r.Name, &r.DueSoon)
		r.Period = PeriodOf(period)
		r.DaysAfterDueDay = int(day.Sub(r.DueDate).Hours() / 24)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("reminders due: %w", err)
	}
	return list, nil
}

// LateAt lists every return still open past its deadline at asOf, the
// longest overdue first: the reviewers' morning digest.
func LateAt(ctx context.Context, db postgres.Querier, asOf time.Time) ([]Return, error) {
	rows, err := db.Query(ctx, `SELECT `+returnColumns+returnFrom+`
		WHERE tr.editable AND tr.deadline <= $1
		ORDER BY tr.due_date, c.name`, asOf)
	if err != nil {
		return nil, fmt.Errorf("late returns: %w", err)
	}
	late, err := pgx.CollectRows(rows, scanReturn)
	if err != nil {
		return nil, fmt.Errorf("late returns: %w", err)
	}
	return late, nil
}
