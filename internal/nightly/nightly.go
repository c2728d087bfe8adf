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

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/auth"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/ledger"
	"ccgtracker/internal/links"
	"ccgtracker/internal/org"
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
// business date, to recover a missed night), recording the run and who
// triggered it: the admin who pressed "Run now", or the system.
func (s *Store) Run(ctx context.Context, a org.Actor, businessDate *time.Time) (Result, error) {
	now := s.now()
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
	if err := s.pool.QueryRow(ctx, `
		INSERT INTO job_runs (business_date, started_at, triggered_by) VALUES ($1, $2, $3) RETURNING id`,
		day, now, a.ID).Scan(&res.RunID); err != nil {
		return res, fmt.Errorf("record run: %w", err)
	}
	err := postgres.Tx(ctx, s.pool, func(tx pgx.Tx) error {
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
	if _, ferr := s.pool.Exec(finishCtx, `
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
	if res.Issued, err = tracker.IssueTx(ctx, tx, now, org.System(), tracker.PeriodOf(day)); err != nil {
		return res, err
	}
	// 2. Late returns, flagged once, with the moment they became late: as
	// at the start of the business day, so a night recovered later flags
	// what that night would have, like every other step.
	if res.Flagged, err = tracker.FlagLate(ctx, tx, dates.StartOf(day)); err != nil {
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
	if res.Ceased, err = ledger.ApplyDueCessationsTx(ctx, tx, now, org.System(), day); err != nil {
		return res, err
	}
	return res, nil
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
	list, err := tracker.RemindersDue(ctx, tx, day)
	if err != nil {
		return 0, err
	}
	for _, r := range list {
		p := r.Period
		kind := outbox.Overdue
		var subject, body string
		if r.DueSoon {
			kind = outbox.DueSoon
			subject = fmt.Sprintf("Your Order Tracker return for %s is due on %s", p.Name(), dates.Long(r.DueDate))
			body = fmt.Sprintf("Dear %s,\n\n%s's Order Tracker return for %s is due on %s. Please submit it by the end of that day, even if there were no changes (a nil return).", r.Name, r.CCGName, p.Name(), dates.Long(r.DueDate))
		} else {
			late := r.DaysAfterDueDay
			subject = fmt.Sprintf("Your Order Tracker return for %s is %d %s late", p.Name(), late, plural(late, "day"))
			body = fmt.Sprintf("Dear %s,\n\n%s's Order Tracker return for %s was due on %s and has not been submitted. Please submit it as soon as you can, even if there were no changes (a nil return).", r.Name, r.CCGName, p.Name(), dates.Long(r.DueDate))
		}
		key := fmt.Sprintf("%s:%d:%d:%s", kind, r.ReturnID, r.UserID, day.Format(time.DateOnly))
		ok, err := outbox.Enqueue(ctx, tx, now, outbox.Message{Key: key, Kind: kind, UserID: r.UserID, To: r.Email,
			Subject: subject, Body: body, Path: links.Return(r.CCGCode, p.String())})
		if err != nil {
			return 0, err
		}
		if ok {
			queued++
		}
	}

	// The reviewers' morning digest of every CCG late on this day.
	lateReturns, err := tracker.LateAt(ctx, tx, dates.StartOf(day))
	if err != nil {
		return 0, err
	}
	var lines []string
	late := map[string]bool{} // the CCGs, which the subject counts: a CCG may be late with two months
	for _, r := range lateReturns {
		late[r.CCGCode] = true
		lines = append(lines, fmt.Sprintf("- %s (%s): %s, due %s, %d days late", r.CCGName, r.CCGCode, r.Period.Name(), dates.Long(r.DueDate), int(day.Sub(r.DueDate).Hours()/24)))
	}
	if len(lines) == 0 {
		return queued, nil
	}
	reviewers, err := auth.Active(ctx, tx, auth.Reviewer, "")
	if err != nil {
		return 0, err
	}
	subject := fmt.Sprintf("%d %s late with their Order Tracker return on %s", len(late), plural(len(late), "CCG is", "CCGs are"), dates.Long(day))
	body := "These returns are past their due date and not submitted:\n\n" + strings.Join(lines, "\n")
	for _, rv := range reviewers {
		ok, err := outbox.Enqueue(ctx, tx, now, outbox.Message{Key: fmt.Sprintf("late_digest:%d:%s", rv.ID, day.Format(time.DateOnly)),
			Kind: outbox.LateDigest, UserID: rv.ID, To: rv.Email, Subject: subject, Body: body, Path: links.ReviewQueue()})
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
