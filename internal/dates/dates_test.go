package dates

import (
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name             string
		day, month, year string
		want             time.Time
		err              string
	}{
		{"OK", "27", "3", "2026", Date(2026, 3, 27), ""},
		{"LeapDay", "29", "2", "2028", Date(2028, 2, 29), ""},
		{"ErrNotALeapYear", "29", "2", "2026", time.Time{}, "Start date must be a real date: 29/2/2026 does not exist"},
		{"ErrThirtyFirstOfApril", "31", "4", "2026", time.Time{}, "31/4/2026 does not exist"},
		{"ErrMonth13", "1", "13", "2026", time.Time{}, "1/13/2026 does not exist"},
		{"ErrEmpty", "", "", "", time.Time{}, "Enter the start date"},
		{"ErrNoMonth", "1", "", "2026", time.Time{}, "Start date must include a month"},
		{"ErrWords", "one", "3", "2026", time.Time{}, "Start date must be a real date"},
		{"ErrShortYear", "1", "3", "26", time.Time{}, "Year must include 4 numbers"},
	}
	for _, c := range cases {
		got, msg := Parse("Start date", c.day, c.month, c.year)
		if c.err == "" && (msg != "" || !got.Equal(c.want)) || c.err != "" && !strings.Contains(msg, c.err) {
			t.Errorf("%s: Parse = %v %q", c.name, got, msg)
		}
	}
}

func TestTodayIsTheLondonDay(t *testing.T) {
	t.Parallel()
	// 23:30 UTC on 30 June is 00:30 on 1 July in London (BST).
	if got := Today(time.Date(2026, 6, 30, 23, 30, 0, 0, time.UTC)); !got.Equal(Date(2026, 7, 1)) {
		t.Errorf("Today = %v", got)
	}
	// In winter London is UTC.
	if got := Today(time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC)); !got.Equal(Date(2026, 12, 31)) {
		t.Errorf("Today = %v", got)
	}
}

func TestAddMonthsClampsToTheMonthEnd(t *testing.T) {
	t.Parallel()
	cases := []struct {
		from, want time.Time
		n          int
	}{
		{Date(2026, 1, 31), Date(2026, 2, 28), 1},
		{Date(2028, 1, 31), Date(2028, 2, 29), 1},
		{Date(2026, 4, 1), Date(2029, 4, 1), 36},
		{Date(2026, 11, 30), Date(2027, 2, 28), 3},
	}
	for _, c := range cases {
		if got := AddMonths(c.from, c.n); !got.Equal(c.want) {
			t.Errorf("AddMonths(%v, %d) = %v, want %v", c.from.Format(time.DateOnly), c.n, got.Format(time.DateOnly), c.want.Format(time.DateOnly))
		}
	}
}
