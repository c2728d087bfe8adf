// Package nightly is the work of the night (DOMAIN.md §7): issue the
// month's returns, flag returns past their due date as late, queue the
// reminders, end services whose cessation date has come, and record the
// run. Every step is idempotent and all of them commit in one
// transaction, so running the night twice changes nothing the second
// time, and a run interrupted half-way leaves nothing half-done.
package nightly

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/ledger"
	"ccgtracker/internal/outbox"
	"ccgtracker/internal/postgres"
	"ccgtracker/internal/tracker"
)

// Result is what a run did.
type Result struct {
	RunID        int64
	BusinessDate time.Time
	Issued       int
	Flagged      int
	Reminders    int
	Ceased       int
}

// lockKey serialises runs across every instance of the service: a second
// run waits for the first, then finds nothing left to do.
const lockKey = 7_700_000_001

// catchUpDays bounds how many missed nights one run catches up on.
const catchUpDays = 31

// beforeCommit lets a test interrupt a run at its last moment.
var beforeCommit func(context.Context)

// Run does the night's work for the London day of now (or the given
// business date, to recover a missed night), recording the run. triggeredBy
// is the admin who pressed "Run now", or nil.
func Run(ctx context.Context, pool *pgxpool.Pool, now time.Time, businessDate *time.Time, triggeredBy *int64) (Result, error) {
	day := dates.Today(now)
	if businessDate != nil {
		day = dates.Of(*businessDate)
	}
	res := Result{BusinessDate: day}
	if day.After(dates.Today(now)) {
		// A night that has not come: its reminders would say returns are
		// late that are not, and its cessations would end services early.
		return res, apperr.New(apperr.Invalid, "The nightly job runs for today or an earlier day, not for %s: today is %s.",
			dates.Long(day), dates.Long(dates.Today(now)))
	}
	if err := pool.QueryRow(ctx, `
		INSERT INTO job_runs (business_date, started_at, triggered_by) VALUES ($1, $2, $3) RETURNING id`,
		day, now, triggeredBy).Scan(&res.RunID); err != nil {
		return res, fmt.Errorf("record run: %w", err)
	}
	err := postgres.Tx(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey); err != nil {
			return fmt.Errorf("wait for other runs: %w", err)
		}
		var err error
		res, err = work(ctx, tx, now, day, res)
		if err != nil {
			return err
		}
		if beforeCommit != nil {
			beforeCommit(ctx)
		}
		return ctx.Err()
	})
	// The run's record is written outside the work's transaction, so a
	// failed run is recorded as failed with its error.
	outcome, msg := "succeeded", ""
	if err != nil {
		outcome, msg = "failed", err.Error()
	}
	finishCtx := context.WithoutCancel(ctx)
	if _, ferr := pool.Exec(finishCtx, `
		UPDATE job_runs SET finished_at = $2, outcome = $3, issued = $4, flagged = $5, reminders = $6, ceased = $7, error = $8
		WHERE id = $1`, res.RunID, time.Now(), outcome, res.Issued, res.Flagged, res.Reminders, res.Ceased, msg); ferr != nil {
		return res, errors.Join(err, fmt.Errorf("record run outcome: %w", ferr))
	}
	return res, err
}

func work(ctx context.Context, tx pgx.Tx, now, day time.Time, res Result) (Result, error) {
	var err error
	// 1. The month's returns: issued on the first, and on any later night
	// if the first was missed (issuing is idempotent).
	if res.Issued, err = tracker.IssueTx(ctx, tx, now, nil, tracker.PeriodOf(day)); err != nil {
		return res, err
	}
	// 2. Late returns, flagged once, with the moment they became late: as
	// at the start of the business day, so a night recovered later flags
	// what that night would have, like every other step.
	if res.Flagged, err = flagLate(ctx, tx, dates.StartOf(day)); err != nil {
		return res, err
	}
	// 3. Reminders for this night and any missed since the last run that
	// succeeded; the outbox's keys make each one once.
	from, err := firstUncovered(ctx, tx, day)
	if err != nil {
		return res, err
	}
	for d := from; !d.After(day); d = d.AddDate(0, 0, 1) {
		n, err := queueReminders(ctx, tx, now, d)
		if err != nil {
			return res, err
		}
		res.Reminders += n
	}
	// 4. Services whose cessation date has come cease (or, never live,
	// are cancelled): terminations and cancellations dated ahead.
	if res.Ceased, err = ledger.ApplyDueCessations(ctx, tx, now, day); err != nil {
		return res, err
	}
	return res, nil
}

// flagLate marks every return not submitted by the end of its due day
// (London) as late by asOf, recording when it became late; a return
// submitted after its deadline but before the night ran is flagged too.
func flagLate(ctx context.Context, tx pgx.Tx, asOf time.Time) (int, error) {
	tag, err := tx.Exec(ctx, `
		UPDATE tracker_returns tr
		SET late_at = d.deadline
		FROM (SELECT id, ((due_date + 1)::timestamp AT TIME ZONE 'Europe/London') AS deadline FROM tracker_returns
		      WHERE late_at IS NULL) d
		WHERE tr.id = d.id AND d.deadline <= $1
		  AND (tr.submitted_at IS NULL OR tr.submitted_at >= d.deadline)`, asOf)
	if err != nil {
		return 0, fmt.Errorf("flag late returns: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// firstUncovered is the first business day no succeeded run covered, at
// most catchUpDays back.
func firstUncovered(ctx context.Context, tx pgx.Tx, day time.Time) (time.Time, error) {
	var last *time.Time
	if err := tx.QueryRow(ctx, `SELECT max(business_date) FROM job_runs WHERE outcome = 'succeeded'`).Scan(&last); err != nil {
		return day, fmt.Errorf("last run: %w", err)
	}
	from := day
	if last != nil && last.Before(day) {
		from = last.AddDate(0, 0, 1)
	}
	if earliest := day.AddDate(0, 0, -catchUpDays); from.Before(earliest) {
		from = earliest
	}
	return from, nil
}

// queueReminders writes the reminders of one business day to the outbox:
// to a CCG's buyers three days before a due date, the day after it was
// missed and weekly while it stays late; and to reviewers a digest of the
// CCGs late that day.
func queueReminders(ctx context.Context, tx pgx.Tx, now, day time.Time) (int, error) {
	queued := 0
	rows, err := tx.Query(ctx, `
		SELECT tr.id, tr.ccg_code, c.name, tr.period, tr.due_date, u.id, u.email, u.name,
		       CASE WHEN tr.due_date = $1::date + 3 THEN 'due_soon' ELSE 'overdue' END
		FROM tracker_returns tr
		JOIN ccgs c ON c.code = tr.ccg_code
		JOIN users u ON u.ccg_code = tr.ccg_code AND u.role = 'buyer' AND u.active
		WHERE tr.status IN ('issued', 'draft', 'returned')
		  AND (tr.due_date = $1::date + 3
		       OR ($1::date > tr.due_date AND ($1::date - tr.due_date - 1) % 7 = 0))
		ORDER BY tr.id, u.id`, day)
	if err != nil {
		return 0, fmt.Errorf("reminders due: %w", err)
	}
	type reminder struct {
		returnID          int64
		ccg, ccgName      string
		period, due       time.Time
		userID            int64
		email, name, kind string
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (reminder, error) {
		var r reminder
		err := row.Scan(&r.returnID, &r.ccg, &r.ccgName, &r.period, &r.due, &r.userID, &r.email, &r.name, &r.kind)
		return r, err
	})
	if err != nil {
		return 0, fmt.Errorf("reminders due: %w", err)
	}
	for _, r := range list {
		p := tracker.PeriodOf(r.period)
		var subject, body string
		if r.kind == string(outbox.DueSoon) {
			subject = fmt.Sprintf("Your Order Tracker return for %s is due on %s", p.Name(), dates.Long(r.due))
			body = fmt.Sprintf("Dear %s,\n\n%s's Order Tracker return for %s is due on %s. Please submit it by the end of that day, even if there were no changes (a nil return).", r.name, r.ccgName, p.Name(), dates.Long(r.due))
		} else {
			late := int(day.Sub(r.due).Hours() / 24)
			subject = fmt.Sprintf("Your Order Tracker return for %s is %d %s late", p.Name(), late, plural(late, "day"))
			body = fmt.Sprintf("Dear %s,\n\n%s's Order Tracker return for %s was due on %s and has not been submitted. Please submit it as soon as you can, even if there were no changes (a nil return).", r.name, r.ccgName, p.Name(), dates.Long(r.due))
		}
		key := fmt.Sprintf("%s:%d:%d:%s", r.kind, r.returnID, r.userID, day.Format(time.DateOnly))
		ok, err := outbox.Enqueue(ctx, tx, now, outbox.Message{Key: key, Kind: outbox.Kind(r.kind), UserID: r.userID, To: r.email,
			Subject: subject, Body: body, Path: "/ccgs/" + r.ccg + "/returns/" + p.String()})
		if err != nil {
			return 0, err
		}
		if ok {
			queued++
		}
	}

	// The reviewers' morning digest of every CCG late on this day.
	rows, err = tx.Query(ctx, `
		SELECT c.name, tr.ccg_code, tr.period, tr.due_date
		FROM tracker_returns tr JOIN ccgs c ON c.code = tr.ccg_code
		WHERE tr.status IN ('issued', 'draft', 'returned') AND tr.due_date < $1
		ORDER BY tr.due_date, c.name`, day)
	if err != nil {
		return 0, fmt.Errorf("late CCGs: %w", err)
	}
	var lines []string
	late := map[string]bool{} // the CCGs, which the subject counts: a CCG may be late with two months
	var name, code string
	var period, due time.Time
	if _, err := pgx.ForEachRow(rows, []any{&name, &code, &period, &due}, func() error {
		late[code] = true
		lines = append(lines, fmt.Sprintf("- %s (%s): %s, due %s, %d days late", name, code, tracker.PeriodOf(period).Name(), dates.Long(due), int(day.Sub(due).Hours()/24)))
		return nil
	}); err != nil {
		return 0, fmt.Errorf("late CCGs: %w", err)
	}
	if len(lines) == 0 {
		return queued, nil
	}
	rows, err = tx.Query(ctx, `SELECT id, email FROM users WHERE role = 'reviewer' AND active ORDER BY id`)
	if err != nil {
		return 0, fmt.Errorf("reviewers: %w", err)
	}
	var id int64
	var email string
	var reviewers []struct {
		id    int64
		email string
	}
	if _, err := pgx.ForEachRow(rows, []any{&id, &email}, func() error {
		reviewers = append(reviewers, struct {
			id    int64
			email string
		}{id, email})
		return nil
	}); err != nil {
		return 0, err
	}
	subject := fmt.Sprintf("%d %s late with their Order Tracker return on %s", len(late), plural(len(late), "CCG is", "CCGs are"), dates.Long(day))
	body := "These returns are past their due date and not submitted:\n\n" + strings.Join(lines, "\n")
	for _, rv := range reviewers {
		ok, err := outbox.Enqueue(ctx, tx, now, outbox.Message{Key: fmt.Sprintf("late_digest:%d:%s", rv.id, day.Format(time.DateOnly)),
			Kind: outbox.LateDigest, UserID: rv.id, To: rv.email, Subject: subject, Body: body, Path: "/returns"})
		if err != nil {
			return 0, err
		}
		if ok {
			queued++
		}
	}
	return queued, nil
}

func plural(n int, one string, many ...string) string {
	if n == 1 {
		return one
	}
	if len(many) > 0 {
		return many[0]
	}
	return one + "s"
}
