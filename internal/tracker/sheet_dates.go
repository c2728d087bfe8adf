package tracker

// Dates as an uploaded file writes them: text in either order, or the
// serial day numbers of Excel date cells.

import (
	"ccgtracker/internal/dates"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// Years a date in a file may have: outside them a date is a typo (26 for
// 2026) or a number Excel read as a day of 1900.
const (
	firstYear = 1990
	lastYear  = 2099
)

// parseCellDate reads a date cell: YYYY-MM-DD text (with any time after
// it), D/M/YYYY text (the UK order), or an Excel serial day number, which
// is what a date cell holds. It returns the date, or a problem in words.
func parseCellDate(s string, date1904 bool) (time.Time, string) {
	var y, m, d int
	switch {
	case isSerial(s):
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 1 || v > 2958465 {
			return time.Time{}, fmt.Sprintf("\"%s\" is not a date: write it like 2026-03-27 or 27/03/2026", shorten(s))
		}
		t, err := excelize.ExcelDateToTime(math.Floor(v), date1904)
		if err != nil {
			return time.Time{}, fmt.Sprintf("\"%s\" is not a date: write it like 2026-03-27 or 27/03/2026", shorten(s))
		}
		y, m, d = t.Year(), int(t.Month()), t.Day()
		if y < firstYear || y > lastYear {
			return time.Time{}, fmt.Sprintf("%s read as a date is %s, which cannot be right: write the date like 2026-03-27", s, dates.Long(dates.Of(t)))
		}
	default:
		parts, yearFirst, ok := dateParts(s)
		if !ok {
			return time.Time{}, fmt.Sprintf("\"%s\" is not a date: write it like 2026-03-27 or 27/03/2026", shorten(s))
		}
		if yearFirst {
			parts[0], parts[2] = parts[2], parts[0]
		}
		if len(parts[2]) != 4 {
			return time.Time{}, fmt.Sprintf("The year of \"%s\" must have 4 numbers, like 2026", shorten(s))
		}
		d, _ = strconv.Atoi(parts[0])
		m, _ = strconv.Atoi(parts[1])
		y, _ = strconv.Atoi(parts[2])
	}
	t := dates.Date(y, time.Month(m), d)
	if m < 1 || m > 12 || d < 1 || t.Day() != d || int(t.Month()) != m {
		return time.Time{}, fmt.Sprintf("%s is not a real date: check the day and the month", s)
	}
	if y < firstYear || y > lastYear {
		return time.Time{}, fmt.Sprintf("The year of %s cannot be right: check it", s)
	}
	return t, ""
}

func isSerial(s string) bool {
	if s == "" {
		return false
	}
	dot := false
	for _, r := range s {
		switch {
		case r == '.' && !dot:
			dot = true
		case r < '0' || r > '9':
			return false
		}
	}
	return s != "."
}

// dateParts splits YYYY-MM-DD (or YYYY/MM/DD; a time after a T or a space
// is ignored) and D/M/YYYY (or with - or .) into three runs of digits,
// reporting whether the year came first.
func dateParts(s string) ([]string, bool, bool) {
	// A time after the date (2026-03-27T00:00:00Z, 27/03/2026 00:00, as
	// some programs write a date) is not part of it.
	if i := strings.IndexAny(s, "T "); i > 0 && strings.Trim(s[i+1:], "0123456789:.+-Z") == "" {
		s = s[:i]
	}
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == '-' || r == '/' || r == '.' })
	if len(parts) != 3 || strings.Count(s, "-")+strings.Count(s, "/")+strings.Count(s, ".") != 2 {
		return nil, false, false
	}
	for _, p := range parts {
		if len(p) > 4 {
			return nil, false, false
		}
		for _, r := range p {
			if r < '0' || r > '9' {
				return nil, false, false
			}
		}
	}
	yearFirst := len(parts[0]) == 4
	if yearFirst && (len(parts[1]) > 2 || len(parts[2]) > 2) || !yearFirst && (len(parts[0]) > 2 || len(parts[1]) > 2) {
		return nil, false, false
	}
	return parts, yearFirst, true
}
