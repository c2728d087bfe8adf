// Package dates holds the business calendar: dates are calendar days in
// Europe/London (DOMAIN.md §6), carried as time.Time at midnight UTC, the
// way pgx reads a PostgreSQL date.
package dates

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Europe/London wherever the binary runs
)

// London is the time zone of business dates.
var London = mustLoad("Europe/London")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// Today is the London calendar day of the instant now.
func Today(now time.Time) time.Time {
	y, m, d := now.In(London).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// StartOf is the instant the London calendar day day begins.
func StartOf(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, London)
}

// Of is the calendar day of t where t is, at midnight UTC: how dates come
// back from PostgreSQL, so that two of them compare with Equal.
func Of(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// Date is the calendar day y-m-d.
func Date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// Long prints a date as the NHS style guide asks: 1 April 2026.
func Long(t time.Time) string { return t.Format("2 January 2006") }

// LongPtr is Long for an optional date, "" when there is none.
func LongPtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return Long(*t)
}

// Parse reads a date typed into the NHS date input (day, month, year as
// separate fields). name is what the date is ("Start date"); a problem is
// said in the design system's words, naming the part to fix, such as
// "Start date must include a month". It returns the date, or a problem.
func Parse(name, day, month, year string) (time.Time, string) {
	day, month, year = strings.TrimSpace(day), strings.TrimSpace(month), strings.TrimSpace(year)
	if day == "" && month == "" && year == "" {
		return time.Time{}, "Enter the " + strings.ToLower(name[:1]) + name[1:]
	}
	var missing []string
	for _, p := range []struct{ name, v string }{{"day", day}, {"month", month}, {"year", year}} {
		if p.v == "" {
			missing = append(missing, p.name)
		}
	}
	if len(missing) > 0 {
		return time.Time{}, name + " must include a " + strings.Join(missing, " and a ")
	}
	// Digits only: strconv.Atoi also takes a sign, and "-001" would be
	// the year -1, "4 numbers" long.
	d, errD := strconv.Atoi(day)
	m, errM := strconv.Atoi(month)
	y, errY := strconv.Atoi(year)
	if errD != nil || errM != nil || errY != nil || !digits(day) || !digits(month) || !digits(year) {
		return time.Time{}, name + " must be a real date, written in numbers like 27 3 2026"
	}
	if len(year) != 4 {
		return time.Time{}, "Year must include 4 numbers"
	}
	t := Date(y, time.Month(m), d)
	if m < 1 || m > 12 || d < 1 || t.Day() != d || t.Month() != time.Month(m) {
		return time.Time{}, fmt.Sprintf("%s must be a real date: %s/%s/%s does not exist", name, day, month, year)
	}
	return t, ""
}

// digits reports whether s is ASCII digits only.
func digits(s string) bool { return strings.Trim(s, "0123456789") == "" }

// ParseISO reads a YYYY-MM-DD date from a file, or says what is wrong.
func ParseISO(s string) (time.Time, string) {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, fmt.Sprintf("%q is not a date in the form YYYY-MM-DD, like 2026-03-27", s)
	}
	return t, ""
}

// AddMonths adds n calendar months, the way contract terms run: 31 January
// plus one month is 28 (or 29) February, never 3 March.
func AddMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return time.Date(first.Year(), first.Month(), min(d, last), 0, 0, 0, 0, time.UTC)
}
