package tracker

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/org"
	"ccgtracker/internal/postgres"
)

// Return is one CCG's return for one month.
type Return struct {
	ID            int64
	CCGCode       string
	CCGName       string
	RegionCode    string
	RegionName    string
	Period        Period
	DueDate       time.Time
	Deadline      time.Time // the end of the due day in London: on time before it
	Editable      bool      // its buyers may change it: issued, a draft, or returned
	Status        Status
	NilReturn     bool
	IssuedAt      time.Time
	SubmittedAt   *time.Time
	SubmittedBy   string
	LateAt        *time.Time
	ReviewedAt    *time.Time
	ReviewedBy    string
	ReviewComment string
	Version       int
	Submissions   int
	Lines         []Line
}

// AuditID is how the audit log names the return: its CCG and month
// (16C/2026-11), the entity of every change to it and its lines.
func (r Return) AuditID() string { return r.CCGCode + "/" + r.Period.String() }

// DaysLate is how late the return was submitted, or is at now.
func (r Return) DaysLate(now time.Time) int {
	return daysLate(r.Deadline, r.DueDate, r.SubmittedAt, now)
}

const returnColumns = `
	tr.id, tr.ccg_code, c.name, c.region_code, rg.name, tr.period, tr.due_date, tr.status, tr.nil_return, tr.issued_at,
	tr.submitted_at, coalesce(su.name, ''), tr.late_at, tr.reviewed_at, coalesce(ru.name, ''), coalesce(tr.review_comment, ''),
	tr.version, (SELECT count(*) FROM return_submissions s WHERE s.return_id = tr.id), tr.deadline, tr.editable`

const returnFrom = `
	FROM tracker_returns tr
	JOIN ccgs c ON c.code = tr.ccg_code
	JOIN regions rg ON rg.code = c.region_code
	LEFT JOIN users su ON su.id = tr.submitted_by
	LEFT JOIN users ru ON ru.id = tr.reviewed_by`

func scanReturn(row pgx.CollectableRow) (Return, error) { return scanReturnAnd(row) }

// scanReturnAnd reads returnColumns and then the columns a query adds
// after them into more.
func scanReturnAnd(row pgx.CollectableRow, more ...any) (Return, error) {
	var r Return
	var period time.Time
	err := row.Scan(append([]any{&r.ID, &r.CCGCode, &r.CCGName, &r.RegionCode, &r.RegionName, &period, &r.DueDate, &r.Status, &r.NilReturn,
		&r.IssuedAt, &r.SubmittedAt, &r.SubmittedBy, &r.LateAt, &r.ReviewedAt, &r.ReviewedBy, &r.ReviewComment, &r.Version, &r.Submissions, &r.Deadline, &r.Editable}, more...)...)
	r.Period = PeriodOf(period)
	return r, err
}

// Get returns a CCG's return for a period with its lines, or NotFound when
// it was not issued or the CCG is outside the scope.
func Get(ctx context.Context, db postgres.Querier, scope org.Scope, ccgCode string, p Period) (Return, error) {
	all, ccg := scope.SQLArgs()
	rows, err := db.Query(ctx, `SELECT `+returnColumns+returnFrom+`
		WHERE tr.ccg_code = $1 AND tr.period = $2 AND ($3 OR tr.ccg_code = $4)`, ccgCode, p.First(), all, ccg)
	if err != nil {
		return Return{}, fmt.Errorf("get return %s %s: %w", ccgCode, p, err)
	}
	r, err := pgx.CollectExactlyOneRow(rows, scanReturn)
	if err != nil {
		return Return{}, postgres.NotFound(err, "%s has no return for %s.", ccgCode, p.Name())
	}
	if r.Lines, err = lines(ctx, db, r.ID, r.Period); err != nil {
		return Return{}, err
	}
	return r, nil
}

// ListFilter narrows the list of returns for a period.
type ListFilter struct {
	Region string
	Status Status // or "late" via Late
	Late   bool
}

// List returns every return of a period in scope, by CCG name.
func List(ctx context.Context, db postgres.Querier, scope org.Scope, p Period, now time.Time, f ListFilter) ([]Return, error) {
	all, ccg := scope.SQLArgs()
	rows, err := db.Query(ctx, `SELECT `+returnColumns+returnFrom+`
		WHERE tr.period = $1 AND ($2 OR tr.ccg_code = $3) AND ($4 = '' OR c.region_code = $4) AND ($5 = '' OR tr.status = $5)
		ORDER BY c.name`, p.First(), all, ccg, f.Region, string(f.Status))
	if err != nil {
		return nil, fmt.Errorf("returns for %s: %w", p, err)
	}
	list, err := pgx.CollectRows(rows, scanReturn)
	if err != nil || !f.Late {
		return list, err
	}
	var late []Return
	for _, r := range list {
		if r.DaysLate(now) > 0 {
			late = append(late, r)
		}
	}
	return late, nil
}

// History returns a CCG's returns, newest first.
func History(ctx context.Context, db postgres.Querier, scope org.Scope, ccgCode string) ([]Return, error) {
	all, ccg := scope.SQLArgs()
	rows, err := db.Query(ctx, `SELECT `+returnColumns+returnFrom+`
		WHERE tr.ccg_code = $1 AND ($2 OR tr.ccg_code = $3) ORDER BY tr.period DESC LIMIT 24`, ccgCode, all, ccg)
	if err != nil {
		return nil, fmt.Errorf("returns of %s: %w", ccgCode, err)
	}
	return pgx.CollectRows(rows, scanReturn)
}

// ErrChanged is returned when the return changed since the person loaded
// it: their change is refused, never applied over someone else's.
func ErrChanged(r Return) error {
	return apperr.New(apperr.Conflict, "The return for %s was changed by someone else while you were working on it (it is now %s). Check it as it is now, then make your change again.",
		r.Period.Name(), lowerFirst(r.Status.Name()))
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// lock reads a return FOR UPDATE in scope: whoever locks second waits,
// then sees the first one's change and version.
func lock(ctx context.Context, tx pgx.Tx, scope org.Scope, ccgCode string, p Period) (Return, error) {
	all, ccg := scope.SQLArgs()
	tag, err := tx.Exec(ctx, `SELECT 1 FROM tracker_returns WHERE ccg_code = $1 AND period = $2 AND ($3 OR ccg_code = $4) FOR UPDATE`,
		ccgCode, p.First(), all, ccg)
	if err != nil {
		return Return{}, fmt.Errorf("lock return: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return Return{}, apperr.New(apperr.NotFound, "%s has no return for %s.", ccgCode, p.Name())
	}
	return Get(ctx, tx, scope, ccgCode, p)
}

// bump moves the return's version on, with its new status.
func bump(ctx context.Context, tx pgx.Tx, r Return, status Status) error {
	_, err := tx.Exec(ctx, `UPDATE tracker_returns SET status = $2, version = version + 1 WHERE id = $1`, r.ID, status)
	return err
}

// Pending returns the requested changes of the CCG's earlier accepted
// returns that still await their actual date: each comes back on the next
// return, pre-populated, until a line gives its date.
func Pending(ctx context.Context, db postgres.Querier, ccgCode string, p Period) ([]Line, error) {
	rows, err := db.Query(ctx, `SELECT `+lineColumns+lineFrom+`
		JOIN tracker_returns tr ON tr.id = l.return_id
		WHERE tr.ccg_code = $1 AND tr.period < $2 AND tr.status = 'accepted'
		  AND l.effective_date > (tr.period + interval '1 month' - interval '1 day')::date
		  AND NOT EXISTS (SELECT 1 FROM return_lines c WHERE c.carried_from = l.id)
		ORDER BY l.effective_date, l.id`, ccgCode, p.First())
	if err != nil {
		return nil, fmt.Errorf("pending changes of %s: %w", ccgCode, err)
	}
	// Every pending line is requested: its date is after its own period.
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Line, error) {
		return scanLine(row, func(l Line) time.Time { return l.Date.AddDate(0, 0, -1) })
	})
}
