package dates

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// isMidnightUTC: how every business date is carried.
func isMidnightUTC(t time.Time) bool {
	return t.Location() == time.UTC && t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0
}

// The NHS date input, for any three fields: never a panic; a problem is
// words; a date accepted is midnight UTC, is the day, month and year
// typed (each written in digits), and has a year of 4 digits.
func FuzzParse(f *testing.F) {
	for _, s := range [][3]string{
		{"27", "3", "2026"}, {"29", "2", "2028"}, {"29", "2", "2026"}, {"", "", ""}, {"1", "", "2026"},
		{" 01 ", "012", "2026"}, {"31", "4", "2026"}, {"1", "1", "99999"}, {"x", "1", "2026"}, {"-1", "1", "2026"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, day, month, year string) {
		got, problem := Parse("Start date", day, month, year)
		if problem != "" {
			if !got.IsZero() {
				t.Fatalf("a problem %q and a date %v", problem, got)
			}
			return
		}
		if !isMidnightUTC(got) {
			t.Fatalf("%v is not a calendar day", got)
		}
		want := [3]int{}
		for i, p := range []string{day, month, year} {
			p = strings.TrimSpace(p)
			if strings.Trim(p, "0123456789") != "" {
				t.Fatalf("%q/%q/%q accepted: %q is not written in numbers", day, month, year, p)
			}
			want[i], _ = strconv.Atoi(p)
		}
		if len(strings.TrimSpace(year)) != 4 || got.Day() != want[0] || int(got.Month()) != want[1] || got.Year() != want[2] {
			t.Fatalf("%q/%q/%q read as %v", day, month, year, got)
		}
	})
}

// A YYYY-MM-DD date from a file: a date accepted prints back as the text
// read (so nothing in it was ignored), at midnight UTC.
func FuzzParseISO(f *testing.F) {
	for _, s := range []string{"2026-03-27", " 2026-03-27\n", "2026-02-29", "2028-02-29", "2026-3-7", "27/03/2026", "", "0000-01-01", "2026-03-27T00:00:00Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, problem := ParseISO(s)
		if problem != "" {
			if !got.IsZero() {
				t.Fatalf("a problem %q and a date %v", problem, got)
			}
			return
		}
		if !isMidnightUTC(got) || got.Format(time.DateOnly) != strings.TrimSpace(s) {
			t.Fatalf("%q read as %v", s, got)
		}
	})
}
