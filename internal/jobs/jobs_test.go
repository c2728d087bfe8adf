package jobs

import (
	"testing"
	"time"

	"ccgtracker/internal/dates"
)

func TestDailyAtKeepsLondonTimeAcrossTheClockChanges(t *testing.T) {
	t.Parallel()
	s := DailyAt{Hour: 1, Minute: 0}
	cases := []struct {
		name string
		now  time.Time
		want time.Time
	}{
		{"BeforeTheHour", time.Date(2026, 11, 24, 0, 30, 0, 0, dates.London), time.Date(2026, 11, 24, 1, 0, 0, 0, dates.London)},
		{"AfterTheHour", time.Date(2026, 11, 24, 1, 0, 0, 0, dates.London), time.Date(2026, 11, 25, 1, 0, 0, 0, dates.London)},
		// Clocks go forward at 01:00 GMT on 28 March 2027: 01:00 London
		// does not exist that night and becomes 02:00 BST.
		{"SpringForward", time.Date(2027, 3, 27, 12, 0, 0, 0, dates.London), time.Date(2027, 3, 28, 2, 0, 0, 0, dates.London)},
	}
	// Clocks go back on 25 October 2026: 01:00 happens twice; either is
	// one run that night, at 01:00 on the London clock.
	got := s.Next(time.Date(2026, 10, 24, 12, 0, 0, 0, dates.London)).In(dates.London)
	if got.Day() != 25 || got.Hour() != 1 || got.Minute() != 0 {
		t.Errorf("FallBack: next is %s", got)
	}
	if after := s.Next(got); after.In(dates.London).Day() != 26 {
		t.Errorf("FallBack: the run after %s is %s: one run a night", got, after.In(dates.London))
	}
	for _, c := range cases {
		if got := s.Next(c.now); !got.Equal(c.want) {
			t.Errorf("%s: next after %s is %s, want %s", c.name, c.now, got.In(dates.London), c.want.In(dates.London))
		}
	}
}
