package tracker

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/audit"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/org"
	"ccgtracker/internal/postgres"
)

// toIssue lists the active CCGs without a return for p, with the due date
// each would get: what IssueTx issues, and what IssuePreview counts.
func toIssue(ctx context.Context, db postgres.Querier, p Period) ([]string, []time.Time, error) {
	rows, err := db.Query(ctx, `
		SELECT c.code, coalesce(c.due_day, r.due_day) FROM ccgs c JOIN regions r ON r.code = c.region_code
		WHERE c.active AND NOT EXISTS (SELECT 1 FROM tracker_returns tr WHERE tr.ccg_code = c.code AND tr.period = $1)
		ORDER BY c.code`, p.First())
	if err != nil {
		return nil, nil, fmt.Errorf("CCGs to issue returns to: %w", err)
	}
	var codes []string
	var dues []time.Time
	var code string
	var day int
	if _, err := pgx.ForEachRow(rows, []any{&code, &day}, func() error {
		codes = append(codes, code)
		dues = append(dues, DueDate(p, day))
		return nil
	}); err != nil {
		return nil, nil, fmt.Errorf("CCGs to issue returns to: %w", err)
	}
	return codes, dues, nil
}

// IssuePreview is what issuing a month's returns would do now.
type IssuePreview struct {
	Period Period
	Issue  int // returns that would be issued
	Late   int // of those, returns whose due day has already ended: late at once
	// Past is true for a month before the current one: its returns fall
	// due in a month that has begun or ended, so some may be late at once,
	// and the nightly job's next run flags them and queues reminders.
	Past bool
}

// PreviewIssue counts what Issue would do for p at now, without doing it:
// what the admin confirms before issuing a past month.
func PreviewIssue(ctx context.Context, db postgres.Querier, now time.Time, p Period) (IssuePreview, error) {
	if err := issuable(p, now); err != nil {
		return IssuePreview{}, err
	}
	today := dates.Today(now)
	_, dues, err := toIssue(ctx, db, p)
	if err != nil {
		return IssuePreview{}, err
	}
	pv := IssuePreview{Period: p, Issue: len(dues), Past: p.First().Before(PeriodOf(today).First())}
	for _, d := range dues {
		if today.After(d) {
			pv.Late++
		}
	}
	return pv, nil
}

// issuable refuses to issue a month's returns before the month starts in
// London: what Issue and PreviewIssue both hold to.
func issuable(p Period, now time.Time) error {
	if p.First().After(dates.Today(now)) {
		return apperr.Invalidf("period", "The returns for %s cannot be issued before the month starts", p.Name())
	}
	return nil
}

// Issue issues the period's return to every active CCG that has none yet,
// each with its due date. It returns how many it issued: running it again
// issues none.
func (s *Store) Issue(ctx context.Context, a org.Actor, p Period) (int, error) {
	now := s.now()
	issued := 0
	err := postgres.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		issued, err = IssueTx(ctx, tx, now, a, p)
		return err
	})
	return issued, err
}

// IssueTx is Issue inside the caller's transaction (the nightly job's).
func IssueTx(ctx context.Context, tx pgx.Tx, now time.Time, a org.Actor, p Period) (int, error) {
	if err := issuable(p, now); err != nil {
		return 0, err
	}
	codes, dues, err := toIssue(ctx, tx, p)
	if err != nil {
		return 0, err
	}
	if len(codes) == 0 {
		return 0, nil
	}
	tag, err := tx.Exec(ctx, `
		INSERT INTO tracker_returns (ccg_code, period, due_date, issued_at)
		SELECT code, $3, due, $4 FROM unnest($1::text[], $2::date[]) AS t(code, due)
		ON CONFLICT (ccg_code, period) DO NOTHING`, codes, dues, p.First(), now)
	if err != nil {
		return 0, fmt.Errorf("issue returns for %s: %w", p, err)
	}
	n := int(tag.RowsAffected())
	if err := audit.Record(ctx, tx, audit.Event{
		At:         now,
		By:         a.ID,
		Action:     "returns.issue",
		EntityType: "period",
		EntityID:   p.String(),
		After:      map[string]any{"returns": n},
	}); err != nil {
		return 0, err
	}
	return n, nil
}
