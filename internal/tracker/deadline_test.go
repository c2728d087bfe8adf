package tracker_test

import (
	"testing"
	"time"

	"ccgtracker/internal/dates"
	"ccgtracker/internal/org"
	"ccgtracker/internal/postgres/pgtest"
	"ccgtracker/internal/tracker"
)

// The database keeps a return's deadline and whether it is editable
// (generated columns, migration 000016): the deadline is midnight in
// London at the end of the due day, in winter, in summer and on the days
// the clocks change; the buyer may change a return issued, a draft or
// returned, and no other.
func TestDeadlineIsTheEndOfTheLondonDueDay(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	cases := []struct {
		name, ccg, period string
		due               time.Time
		status            tracker.Status
		deadline          time.Time
		editable          bool
	}{
		{"Winter", "16C", "2026-10", dates.Date(2026, 11, 20), tracker.Issued, time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC), true},
		{"Summer", "03Q", "2026-06", dates.Date(2026, 7, 20), tracker.Draft, time.Date(2026, 7, 20, 23, 0, 0, 0, time.UTC), true},
		{"ClocksGoBackThatNight", "93C", "2026-09", dates.Date(2026, 10, 24), tracker.Returned, time.Date(2026, 10, 24, 23, 0, 0, 0, time.UTC), true},
		{"ClocksWentBackThatDay", "72Q", "2026-09", dates.Date(2026, 10, 25), tracker.Submitted, time.Date(2026, 10, 26, 0, 0, 0, 0, time.UTC), false},
		{"ClocksGoForwardThatNight", "36L", "2027-02", dates.Date(2027, 3, 27), tracker.Accepted, time.Date(2027, 3, 28, 0, 0, 0, 0, time.UTC), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, _ := tracker.ParsePeriod(c.period)
			var submitted *time.Time
			if c.status == tracker.Submitted || c.status == tracker.Accepted {
				at := c.due
				submitted = &at
			}
			if _, err := pool.Exec(ctx, `
				INSERT INTO tracker_returns (ccg_code, period, due_date, status, issued_at, submitted_at)
				VALUES ($1, $2, $3, $4, $5, $6)`, c.ccg, p.First(), c.due, c.status, p.First(), submitted); err != nil {
				t.Fatal(err)
			}
			r, err := tracker.Get(ctx, pool, org.AllCCGs(), c.ccg, p)
			if err != nil {
				t.Fatal(err)
			}
			if !r.Deadline.Equal(c.deadline) {
				t.Errorf("due %s: deadline %s, want %s", c.due.Format(time.DateOnly), r.Deadline.UTC(), c.deadline)
			}
			if r.Editable != c.editable {
				t.Errorf("%s: editable %v, want %v", c.status, r.Editable, c.editable)
			}
			// A second before the deadline is on time, the deadline itself late.
			before := c.deadline.Add(-time.Second)
			if r.SubmittedAt == nil && (r.DaysLate(before) != 0 || r.DaysLate(c.deadline) != 1) {
				t.Errorf("outstanding: %d days late a second before the deadline, %d at it; want 0 and 1", r.DaysLate(before), r.DaysLate(c.deadline))
			}
		})
	}
}
