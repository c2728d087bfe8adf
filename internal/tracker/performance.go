package tracker

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/org"
	"ccgtracker/internal/postgres"
)

// PerformanceMonths is how many periods the performance figures cover.
const PerformanceMonths = 12

// Figures are how timely a set of returns was, as at an instant now
// (DOMAIN.md §6: a return is late when it is not submitted by the end of
// its due day in London):
//
//   - Due: returns whose deadline (Deadline of the due date) has passed;
//   - OnTime: of those, first submitted before the deadline;
//   - Late: of those, first submitted at or after the deadline, or not
//     submitted yet; Due = OnTime + Late;
//   - DaysLate: the late ones' days late added up, each as DaysLate counts
//     them (London calendar days after the due date, at submission or,
//     still unsubmitted, at now);
//   - Outstanding: issued and never submitted, due yet or not.
//
// A return counts as submitted from its first submission: a return the
// reviewer sent back and the CCG resubmitted after the deadline was still
// on time. Only returns issued by now, and submissions made by now, count.
// Every figure is a whole number; the share and the average are worked out
// from them with integer arithmetic.
type Figures struct {
	Due, OnTime, Late, DaysLate, Outstanding int
}

// Add adds g's returns to f's.
func (f *Figures) Add(g Figures) {
	f.Due += g.Due
	f.OnTime += g.OnTime
	f.Late += g.Late
	f.DaysLate += g.DaysLate
	f.Outstanding += g.Outstanding
}

// OnTimeShare is the share of due returns made on time, as the exact
// fraction OnTime/Due; ok is false when none was due.
func (f Figures) OnTimeShare() (num, den int, ok bool) {
	return f.OnTime, f.Due, f.Due > 0
}

// OnTimePercent is the share on time as a whole percentage, rounded half
// up (2 of 3 is 67, 1 of 8 is 13); ok is false when none was due.
func (f Figures) OnTimePercent() (int, bool) {
	if f.Due == 0 {
		return 0, false
	}
	// floor(100·on/due + ½) = floor((200·on + due) / (2·due))
	return (200*f.OnTime + f.Due) / (2 * f.Due), true
}

// OnTimeText is OnTimePercent printed, as "67%", or "" when none was due.
func (f Figures) OnTimeText() string {
	p, ok := f.OnTimePercent()
	if !ok {
		return ""
	}
	return strconv.Itoa(p) + "%"
}

// AverageDaysLateTenths is the average days late of the late returns in
// tenths of a day, rounded half up (3 days over 2 returns is 15); ok is
// false when none was late.
func (f Figures) AverageDaysLateTenths() (int, bool) {
	if f.Late == 0 {
		return 0, false
	}
	// floor(10·days/late + ½) = floor((20·days + late) / (2·late))
	return (20*f.DaysLate + f.Late) / (2 * f.Late), true
}

// AverageDaysLateText is the average days late to one decimal place, as
// "1.5", or "" when none was late.
func (f Figures) AverageDaysLateText() string {
	t, ok := f.AverageDaysLateTenths()
	if !ok {
		return ""
	}
	return strconv.Itoa(t/10) + "." + strconv.Itoa(t%10)
}

// CCGPerformance is one CCG's figures, month by month.
type CCGPerformance struct {
	Code, Name string
	Months     []Figures // one per period of the Performance, oldest first
	Total      Figures   // the months added up
}

// RegionPerformance is one region's figures, month by month, and those of
// each of its CCGs.
type RegionPerformance struct {
	Code, Name string
	Months     []Figures
	Total      Figures
	CCGs       []CCGPerformance // by name
}

// Performance is how timely the monthly returns were over the periods up
// to and including a given one, as at Now, per region and per CCG.
type Performance struct {
	Periods []Period // oldest first
	Now     time.Time
	Regions []RegionPerformance // by name
	Months  []Figures           // every region added up, month by month
	Total   Figures
}

// Region returns the figures of the region with this code.
func (p Performance) Region(code string) (RegionPerformance, bool) {
	for _, r := range p.Regions {
		if r.Code == code {
			return r, true
		}
	}
	return RegionPerformance{}, false
}

// PerformanceOf works out the Figures of every CCG in scope (those active,
// and any other with a return in the window) for the PerformanceMonths
// periods ending with last, as at now, and adds them up by region and for
// all. The database counts per CCG and period in one query; the sums are
// made here.
func PerformanceOf(ctx context.Context, db postgres.Querier, scope org.Scope, last Period, now time.Time) (Performance, error) {
	perf := Performance{Now: now}
	first := last
	for range PerformanceMonths - 1 {
		first = first.Prev()
	}
	index := map[string]int{}
	for p, i := first, 0; i < PerformanceMonths; p, i = p.Next(), i+1 {
		perf.Periods = append(perf.Periods, p)
		index[p.String()] = i
	}
	all, ccg := scope.SQLArgs()
	// Per return: its deadline (tracker_returns.deadline: the end of its
	// due day in London) and when it was first submitted, if by now.
	rows, err := db.Query(ctx, `
		WITH issued AS (
			SELECT tr.ccg_code, tr.period, tr.due_date, tr.deadline,
			       coalesce((SELECT min(s.submitted_at) FROM return_submissions s WHERE s.return_id = tr.id),
			                tr.submitted_at) AS first_submitted
			FROM tracker_returns tr
			WHERE tr.period BETWEEN $1 AND $2 AND tr.issued_at <= $3
		), r AS (
			SELECT ccg_code, period, due_date, deadline,
			       CASE WHEN first_submitted <= $3 THEN first_submitted END AS submitted
			FROM issued
		)
		SELECT c.region_code, rg.name, c.code, c.name, r.period,
		       count(*) FILTER (WHERE r.deadline <= $3),
		       count(*) FILTER (WHERE r.deadline <= $3 AND r.submitted < r.deadline),
		       count(*) FILTER (WHERE r.deadline <= $3 AND (r.submitted IS NULL OR r.submitted >= r.deadline)),
		       coalesce(sum((coalesce(r.submitted, $3) AT TIME ZONE 'Europe/London')::date - r.due_date)
		                FILTER (WHERE r.deadline <= $3 AND (r.submitted IS NULL OR r.submitted >= r.deadline)), 0),
		       count(*) FILTER (WHERE r.period IS NOT NULL AND r.submitted IS NULL)
		FROM ccgs c
		JOIN regions rg ON rg.code = c.region_code
		LEFT JOIN r ON r.ccg_code = c.code
		WHERE ($4 OR c.code = $5) AND (c.active OR r.ccg_code IS NOT NULL)
		GROUP BY c.region_code, rg.name, c.code, c.name, r.period
		ORDER BY rg.name, c.region_code, c.name, c.code, r.period`,
		first.First(), last.First(), now, all, ccg)
	if err != nil {
		return Performance{}, fmt.Errorf("performance to %s: %w", last, err)
	}
	var (
		regionCode, regionName, ccgCode, ccgName string
		period                                   *time.Time
		f                                        Figures
	)
	perf.Months = make([]Figures, PerformanceMonths)
	if _, err := pgx.ForEachRow(rows, []any{&regionCode, &regionName, &ccgCode, &ccgName, &period,
		&f.Due, &f.OnTime, &f.Late, &f.DaysLate, &f.Outstanding}, func() error {
		if n := len(perf.Regions); n == 0 || perf.Regions[n-1].Code != regionCode {
			perf.Regions = append(perf.Regions, RegionPerformance{Code: regionCode, Name: regionName, Months: make([]Figures, PerformanceMonths)})
		}
		rg := &perf.Regions[len(perf.Regions)-1]
		if n := len(rg.CCGs); n == 0 || rg.CCGs[n-1].Code != ccgCode {
			rg.CCGs = append(rg.CCGs, CCGPerformance{Code: ccgCode, Name: ccgName, Months: make([]Figures, PerformanceMonths)})
		}
		if period == nil {
			return nil // a CCG without a return in the window
		}
		c := &rg.CCGs[len(rg.CCGs)-1]
		i := index[PeriodOf(*period).String()]
		for _, m := range []*Figures{&c.Months[i], &c.Total, &rg.Months[i], &rg.Total, &perf.Months[i], &perf.Total} {
			m.Add(f)
		}
		return nil
	}); err != nil {
		return Performance{}, fmt.Errorf("performance to %s: %w", last, err)
	}
	return perf, nil
}
