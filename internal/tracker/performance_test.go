package tracker_test

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"ccgtracker/internal/dates"
	"ccgtracker/internal/org"
	"ccgtracker/internal/postgres/pgtest"
	"ccgtracker/internal/tracker"
)

func TestPerformanceFiguresRoundHalfUp(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name          string
		f             tracker.Figures
		share, lateBy string
	}{
		{"NothingDue", tracker.Figures{Outstanding: 3}, "", ""},
		{"AllOnTime", tracker.Figures{Due: 4, OnTime: 4}, "100%", ""},
		{"AThird", tracker.Figures{Due: 3, OnTime: 1, Late: 2, DaysLate: 2}, "33%", "1.0"},
		{"TwoThirdsUp", tracker.Figures{Due: 3, OnTime: 2, Late: 1, DaysLate: 7}, "67%", "7.0"},
		{"AnEighthHalfUp", tracker.Figures{Due: 8, OnTime: 1, Late: 7, DaysLate: 1}, "13%", "0.1"}, // 12.5% and 0.142…
		{"QuarterDayHalfUp", tracker.Figures{Due: 4, Late: 4, DaysLate: 1}, "0%", "0.3"},           // 0.25
		{"TwoThirdsOfADay", tracker.Figures{Due: 3, OnTime: 0, Late: 3, DaysLate: 2}, "0%", "0.7"},
		{"NinetyNineAndAHalfUp", tracker.Figures{Due: 200, OnTime: 199, Late: 1, DaysLate: 12}, "100%", "12.0"},     // 99.5%
		{"NinetyNinePointFourDown", tracker.Figures{Due: 1000, OnTime: 994, Late: 6, DaysLate: 100}, "99%", "16.7"}, // 99.4%, 16.66…
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.f.OnTimeText(); got != c.share {
				t.Errorf("share on time %q, want %q", got, c.share)
			}
			if got := c.f.AverageDaysLateText(); got != c.lateBy {
				t.Errorf("average days late %q, want %q", got, c.lateBy)
			}
		})
	}
	num, den, ok := tracker.Figures{Due: 6, OnTime: 4, Late: 2}.OnTimeShare()
	if num != 4 || den != 6 || !ok {
		t.Errorf("share %d/%d (%v), want the exact 4/6", num, den, ok)
	}
}

// perfNow is the test's clock: 24 November 2026, 10:00 in London (GMT).
var perfNow = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

// london is a wall-clock instant in London.
func london(y int, m time.Month, d, h, min, s int) time.Time {
	return time.Date(y, m, d, h, min, s, 0, dates.London)
}

// addReturn inserts a return as the nightly job and the buyer would have
// left it: issued on the period's first day, submitted at submitted (nil:
// never), and with a kept version for each of submissions.
func addReturn(t *testing.T, pool *pgxpool.Pool, ccg, period string, due time.Time, submitted *time.Time, submissions ...time.Time) {
	t.Helper()
	p, ok := tracker.ParsePeriod(period)
	if !ok {
		t.Fatalf("period %q", period)
	}
	status := tracker.Issued
	if submitted != nil {
		status = tracker.Submitted
	}
	var id int64
	must(t, pool.QueryRow(ctx, `
		INSERT INTO tracker_returns (ccg_code, period, due_date, status, issued_at, submitted_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		ccg, p.First(), due, status, p.First().Add(9*time.Hour), submitted).Scan(&id))
	for i, at := range submissions {
		_, err := pool.Exec(ctx, `
			INSERT INTO return_submissions (return_id, number, submitted_at, nil_return, lines)
			VALUES ($1, $2, $3, true, '[]')`, id, i+1, at)
		must(t, err)
	}
}

func at(t time.Time) *time.Time { return &t }

// TestPerformanceOfHandBuiltReturns counts returns made on time, one day
// late at 00:00 London the next day, outstanding, early and not yet due,
// and a region with no late return, over the twelve months to October
// 2026, as at 24 November 2026.
func TestPerformanceOfHandBuiltReturns(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)

	// London (Y56), due on the 8th; 8 November 2026 is a Sunday.
	sepDue, octDue := day(2026, 10, 8), day(2026, 11, 9)
	// On time at the last second of the due day (British Summer Time).
	addReturn(t, pool, "93C", "2026-09", sepDue, at(london(2026, 10, 8, 23, 59, 59)))
	// One day late at midnight, London: still 8 October in UTC.
	addReturn(t, pool, "A3A8R", "2026-09", sepDue, at(london(2026, 10, 9, 0, 0, 0)))
	// Never submitted: 47 days late on 24 November.
	addReturn(t, pool, "W2U3Z", "2026-09", sepDue, nil)
	// 3 days late; on time; not submitted (15 days late).
	addReturn(t, pool, "72Q", "2026-10", octDue, at(london(2026, 11, 12, 10, 0, 0)))
	addReturn(t, pool, "36L", "2026-10", octDue, at(london(2026, 11, 1, 10, 0, 0)))
	addReturn(t, pool, "93C", "2026-10", octDue, nil)
	// Submitted tomorrow: as at now, outstanding and 15 days late.
	addReturn(t, pool, "W2U3Z", "2026-10", octDue, at(london(2026, 11, 25, 9, 0, 0)))
	// Outside the twelve months: neither counts.
	addReturn(t, pool, "93C", "2025-10", day(2025, 11, 10), nil)
	addReturn(t, pool, "93C", "2026-11", day(2026, 12, 8), nil)

	// South West (Y58): nothing late. On time on the due day; on time
	// at the first submission, though sent back and submitted again after
	// the due date; and two not yet due (a later due day), one made early.
	addReturn(t, pool, "11J", "2026-08", day(2026, 9, 14), at(london(2026, 9, 14, 12, 0, 0)))
	addReturn(t, pool, "15N", "2026-09", day(2026, 10, 12), at(london(2026, 10, 20, 9, 0, 0)),
		london(2026, 10, 10, 9, 0, 0), london(2026, 10, 20, 9, 0, 0))
	addReturn(t, pool, "11N", "2026-10", day(2026, 11, 30), nil)
	addReturn(t, pool, "11M", "2026-10", day(2026, 11, 30), at(london(2026, 11, 20, 9, 0, 0)))

	// The one-day-late return is one day late by Return.DaysLate too,
	// from the deadline the database keeps.
	september, _ := tracker.ParsePeriod("2026-09")
	oneDay, err := tracker.Get(ctx, pool, org.AllCCGs(), "A3A8R", september)
	must(t, err)
	if n := oneDay.DaysLate(perfNow); n != 1 {
		t.Fatalf("submitted at 00:00 the next day: %d days late, want 1", n)
	}

	october, _ := tracker.ParsePeriod("2026-10")
	perf, err := tracker.PerformanceOf(ctx, pool, org.AllCCGs(), october, perfNow)
	must(t, err)

	if len(perf.Periods) != 12 || perf.Periods[0].String() != "2025-11" || perf.Periods[11].String() != "2026-10" {
		t.Fatalf("periods %v, want November 2025 to October 2026", perf.Periods)
	}
	if len(perf.Regions) != 7 {
		t.Fatalf("%d regions, want 7", len(perf.Regions))
	}
	ccgs := 0
	for _, r := range perf.Regions {
		ccgs += len(r.CCGs)
	}
	if ccgs != 106 {
		t.Errorf("%d CCGs, want all 106", ccgs)
	}
	const sep, oct, aug = 10, 11, 9

	type want struct {
		name                           string
		got                            tracker.Figures
		due, onTime, late, days, owing int
		share, lateBy                  string
	}
	ldn, ok := perf.Region("Y56")
	if !ok || ldn.Name != "London" {
		t.Fatalf("no London in %+v", perf.Regions)
	}
	sw, _ := perf.Region("Y58")
	ccg := func(r tracker.RegionPerformance, code string) tracker.CCGPerformance {
		for _, c := range r.CCGs {
			if c.Code == code {
				return c
			}
		}
		t.Fatalf("no CCG %s in %s", code, r.Name)
		return tracker.CCGPerformance{}
	}
	mid, _ := perf.Region("Y60")
	for _, w := range []want{
		{"London, September", ldn.Months[sep], 3, 1, 2, 1 + 47, 1, "33%", "24.0"},
		{"London, October", ldn.Months[oct], 4, 1, 3, 3 + 15 + 15, 2, "25%", "11.0"},
		{"London, August", ldn.Months[aug], 0, 0, 0, 0, 0, "", ""},
		{"London, 12 months", ldn.Total, 7, 2, 5, 81, 3, "29%", "16.2"}, // 2/7 = 28.57%
		{"North Central London, September", ccg(ldn, "93C").Months[sep], 1, 1, 0, 0, 0, "100%", ""},
		{"North East London, September", ccg(ldn, "A3A8R").Months[sep], 1, 0, 1, 1, 0, "0%", "1.0"},
		{"North West London, 12 months", ccg(ldn, "W2U3Z").Total, 2, 0, 2, 47 + 15, 2, "0%", "31.0"},
		{"North Central London, 12 months", ccg(ldn, "93C").Total, 2, 1, 1, 15, 1, "50%", "15.0"},
		{"South West, August", sw.Months[aug], 1, 1, 0, 0, 0, "100%", ""},
		{"South West, September", sw.Months[sep], 1, 1, 0, 0, 0, "100%", ""},
		{"South West, October", sw.Months[oct], 0, 0, 0, 0, 1, "", ""},
		{"South West, 12 months", sw.Total, 2, 2, 0, 0, 1, "100%", ""},
		{"Devon, September", ccg(sw, "15N").Months[sep], 1, 1, 0, 0, 0, "100%", ""},
		{"Midlands, 12 months", mid.Total, 0, 0, 0, 0, 0, "", ""},
		{"England, October", perf.Months[oct], 4, 1, 3, 33, 3, "25%", "11.0"},
		{"England, 12 months", perf.Total, 9, 4, 5, 81, 4, "44%", "16.2"},
	} {
		t.Run(w.name, func(t *testing.T) {
			g := w.got
			if g.Due != w.due || g.OnTime != w.onTime || g.Late != w.late || g.DaysLate != w.days || g.Outstanding != w.owing {
				t.Errorf("%s: due %d, on time %d, late %d, days late %d, outstanding %d; want %d, %d, %d, %d, %d",
					w.name, g.Due, g.OnTime, g.Late, g.DaysLate, g.Outstanding, w.due, w.onTime, w.late, w.days, w.owing)
			}
			if s := g.OnTimeText(); s != w.share {
				t.Errorf("%s: on time %q, want %q", w.name, s, w.share)
			}
			if s := g.AverageDaysLateText(); s != w.lateBy {
				t.Errorf("%s: average days late %q, want %q", w.name, s, w.lateBy)
			}
		})
	}

	// A buyer's scope holds their CCG alone.
	own, err := tracker.PerformanceOf(ctx, pool, org.OnlyCCG("93C"), october, perfNow)
	must(t, err)
	if len(own.Regions) != 1 || len(own.Regions[0].CCGs) != 1 || own.Total.Due != 2 || own.Total.OnTime != 1 {
		t.Errorf("the scope of 93C gives %+v, want 93C's two due returns alone", own)
	}
}
