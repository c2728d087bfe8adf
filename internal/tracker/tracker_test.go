package tracker

import (
	"testing"
	"time"

	"ccgtracker/internal/dates"
)

func TestDueDateMovesOffTheWeekend(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		period string
		day    int
		want   time.Time
	}{
		{"Weekday", "2026-10", 20, dates.Date(2026, 11, 20)},          // Friday
		{"SaturdayToMonday", "2026-10", 14, dates.Date(2026, 11, 16)}, // 14 Nov 2026 is a Saturday
		{"SundayToMonday", "2026-10", 8, dates.Date(2026, 11, 9)},     // 8 Nov 2026 is a Sunday
		{"AcrossTheYear", "2026-12", 8, dates.Date(2027, 1, 8)},       // Friday
		{"FebruaryReturnDueInMarch", "2027-02", 20, dates.Date(2027, 3, 22)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, ok := ParsePeriod(c.period)
			if !ok {
				t.Fatal(c.period)
			}
			if got := DueDate(p, c.day); !got.Equal(c.want) {
				t.Errorf("%s: due %s, want %s", c.name, got.Format("Mon 2 Jan 2006"), c.want.Format("Mon 2 Jan 2006"))
			}
		})
	}
}

// endOfDay is the deadline of a return due on due, as the database makes
// it (tracker_returns.deadline; TestDeadlineIsTheEndOfTheLondonDueDay
// holds the two to each other).
func endOfDay(due time.Time) time.Time {
	next := due.AddDate(0, 0, 1)
	return time.Date(next.Year(), next.Month(), next.Day(), 0, 0, 0, 0, dates.London)
}

func TestLateAtTheEndOfTheLondonDueDay(t *testing.T) {
	t.Parallel()
	late := func(due time.Time, submitted *time.Time, now time.Time) int {
		return daysLate(endOfDay(due), due, submitted, now)
	}
	due := dates.Date(2026, 11, 20) // London is on GMT in November
	onTime := time.Date(2026, 11, 20, 23, 59, 59, 0, time.UTC)
	midnight := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	t.Run("SubmittedAtTheLastSecond", func(t *testing.T) {
		if d := late(due, &onTime, midnight); d != 0 {
			t.Errorf("submitted 23:59:59 on the due day: %d days late", d)
		}
	})
	t.Run("SubmittedAtMidnight", func(t *testing.T) {
		if d := late(due, &midnight, midnight); d != 1 {
			t.Errorf("submitted at midnight: %d days late, want 1", d)
		}
	})
	// In summer London is an hour ahead: 23:30 UTC on the due day is
	// already the next day in London.
	t.Run("Summer", func(t *testing.T) {
		summerDue := dates.Date(2026, 7, 20)
		summer := time.Date(2026, 7, 20, 23, 30, 0, 0, time.UTC)
		if d := late(summerDue, &summer, summer); d != 1 {
			t.Errorf("23:30 UTC in July: %d days late, want 1", d)
		}
	})
	// Across the October clock change: due Monday 26 October 2026.
	t.Run("AcrossTheClockChange", func(t *testing.T) {
		autumnDue := dates.Date(2026, 10, 26)
		now := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
		if d := late(autumnDue, nil, now); d != 7 {
			t.Errorf("outstanding a week across the clock change: %d days, want 7", d)
		}
	})
	t.Run("OutstandingOnTheDueDay", func(t *testing.T) {
		if d := late(due, nil, time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)); d != 0 {
			t.Errorf("outstanding on the due day: %d", d)
		}
	})
}

func TestPeriods(t *testing.T) {
	t.Parallel()
	p, ok := ParsePeriod("2028-02")
	if !ok || p.Last() != dates.Date(2028, 2, 29) || p.Name() != "February 2028" || p.Next().String() != "2028-03" || p.Prev().String() != "2028-01" {
		t.Errorf("period %v", p)
	}
	for _, bad := range []string{"2026-13", "26-11", "2026/11", "", "1999-12"} {
		t.Run("Not "+bad, func(t *testing.T) {
			if _, ok := ParsePeriod(bad); ok {
				t.Errorf("ParsePeriod(%q) accepted", bad)
			}
		})
	}
}

// A month ends at midnight London time, whatever the clocks do: in summer
// that is 23:00 UTC the evening before.
func TestPeriodEndsAtLondonMidnight(t *testing.T) {
	t.Parallel()
	june, _ := ParsePeriod("2026-06")
	cases := []struct {
		name string
		at   time.Time
		want bool
	}{
		{"LastDayOfTheMonth", time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC), false},
		{"BeforeMidnightBST", time.Date(2026, 6, 30, 22, 59, 59, 0, time.UTC), false},
		{"MidnightBST", time.Date(2026, 6, 30, 23, 0, 0, 0, time.UTC), true},
		{"DuringTheMonth", time.Date(2026, 6, 2, 9, 0, 0, 0, time.UTC), false},
		{"MonthsLater", time.Date(2026, 9, 1, 9, 0, 0, 0, time.UTC), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := june.Ended(c.at); got != c.want {
				t.Errorf("%s: Ended(%v) = %v, want %v", c.name, c.at, got, c.want)
			}
		})
	}
	if got := june.SubmittableFrom(); !got.Equal(dates.Date(2026, 7, 1)) {
		t.Errorf("SubmittableFrom = %v", got)
	}
}
