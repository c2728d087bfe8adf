package e2e

import (
	"context"
	"testing"
	"time"

	"ccgtracker/internal/auth"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/tracker"
)

// TestPerformanceMonitoring is a reviewer monitoring performance: from the
// menu to every region's figures and chart, then to London's CCGs, each
// page checked with axe-core. London has four returns of the two months
// before last, all due by now (on the 8th of the month after theirs):
// three on time and one two days late.
func TestPerformanceMonitoring(t *testing.T) {
	t.Parallel()
	base, pool := newAppWithPool(t, nil)
	ctx := context.Background()
	now := time.Now()
	thisMonth := tracker.PeriodOf(dates.Today(now))
	older := thisMonth.Prev().Prev()
	oldest := older.Prev()
	add := func(ccg string, p tracker.Period, lateBy int) {
		t.Helper()
		due := p.Next().First().AddDate(0, 0, 7) // the 8th
		submitted := time.Date(due.Year(), due.Month(), due.Day()+lateBy, 10, 0, 0, 0, dates.London)
		if _, err := pool.Exec(ctx, `
			INSERT INTO tracker_returns (ccg_code, period, due_date, status, issued_at, submitted_at)
			VALUES ($1, $2, $3, 'submitted', $4, $5)`, ccg, p.First(), due, p.First().Add(9*time.Hour), submitted); err != nil {
			t.Fatal(err)
		}
	}
	add("36L", older, 0)
	add("93C", older, 0)
	add("72Q", older, 2)
	add("W2U3Z", oldest, 0)

	b := newBrowser(t)
	signIn(t, b, base, "reviewer@example.nhs.uk", auth.DemoPassword)
	clickMenu(t, b, "/performance")
	wantPath(t, b, base, "/performance")
	wantText(t, b, "h1", "Monitor performance")
	// London: 3 of 4 on time, the late one 2 days late.
	wantText(t, b, `[data-testid=performance-regions] tr[data-row="London"] [data-testid=share]`, "75%")
	wantText(t, b, `[data-testid=performance-regions] tr[data-row="London"] [data-testid=average-late]`, "2.0")
	wantContains(t, b, `[data-testid=chart-data] tr[data-row="`+older.Name()+`"]`, "67%")
	checkAccessibility(t, b, "Monitor performance, every region")

	click(t, b, `[data-testid=performance-regions] tr[data-row="London"] a`)
	wantPath(t, b, base, "/performance?period="+thisMonth.Prev().String()+"&region=Y56")
	wantText(t, b, "h1", "Monitor performance: London")
	wantText(t, b, `[data-testid=performance-ccgs] tr[data-row="NHS South East London CCG (72Q)"] [data-testid=average-late]`, "2.0")
	checkAccessibility(t, b, "Monitor performance, London")
}
