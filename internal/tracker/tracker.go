// Package tracker owns the monthly Order Tracker return (DOMAIN.md §6):
// issuing it with its due date, the buyer's change lines and their
// validation, submission (every version kept), the reviewer's return or
// acceptance, and applying an accepted return to the service ledger.
package tracker

import (
	"time"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/dates"
)

// Status is where a return is in its life.
type Status string

// The statuses of DOMAIN.md §6.
const (
	Issued    Status = "issued"
	Draft     Status = "draft"
	Submitted Status = "submitted"
	Returned  Status = "returned"
	Accepted  Status = "accepted"
)

// Name is the status in words.
func (s Status) Name() string {
	switch s {
	case Issued:
		return "Issued"
	case Draft:
		return "Draft"
	case Submitted:
		return "Submitted"
	case Returned:
		return "Returned to the CCG"
	case Accepted:
		return "Accepted"
	}
	return string(s)
}

// Period is a calendar month, held as its first day.
type Period struct{ first time.Time }

// PeriodOf is the month containing the day t.
func PeriodOf(t time.Time) Period {
	return Period{dates.Date(t.Year(), t.Month(), 1)}
}

// ParsePeriod reads "2026-11".
func ParsePeriod(s string) (Period, bool) {
	t, err := time.Parse("2006-01", s)
	if err != nil || t.Year() < 2000 || t.Year() > 2100 {
		return Period{}, false
	}
	return Period{t}, true
}

// First is the period's first day.
func (p Period) First() time.Time { return p.first }

// Last is the period's last day.
func (p Period) Last() time.Time { return p.first.AddDate(0, 1, -1) }

// Next is the following month.
func (p Period) Next() Period { return Period{p.first.AddDate(0, 1, 0)} }

// Prev is the month before.
func (p Period) Prev() Period { return Period{p.first.AddDate(0, -1, 0)} }

// String is the period's id in URLs: 2026-11.
func (p Period) String() string { return p.first.Format("2006-01") }

// Name is the period in words: November 2026.
func (p Period) Name() string { return p.first.Format("January 2006") }

// Ended reports whether the month is over in London at now: a return
// reports what happened in its month, so it can be submitted (and
// accepted) only from the 1st of the next month, when every day of it is a
// fact rather than a plan.
func (p Period) Ended(now time.Time) bool { return !dates.Today(now).Before(p.Next().First()) }

// SubmittableFrom is the first day a return for the period can be sent:
// the 1st of the next month (London).
func (p Period) SubmittableFrom() time.Time { return p.Next().First() }

// ErrMonthNotEnded refuses a submission or acceptance before the month is
// over, saying plainly when it can be done.
func ErrMonthNotEnded(p Period) error {
	return apperr.New(apperr.Invalid, "The return for %s can be submitted from %s, once the month has ended. Until then you can keep adding this month's changes to the draft.",
		p.Name(), dates.Long(p.SubmittableFrom()))
}

// IsZero reports whether the period was never set.
func (p Period) IsZero() bool { return p.first.IsZero() }

// DueDate is when the return for period is due: the CCG's day of the next
// month, moved to the Monday when it falls on a weekend (DOMAIN.md §6).
func DueDate(p Period, day int) time.Time {
	due := p.first.AddDate(0, 1, day-1)
	switch due.Weekday() {
	case time.Saturday:
		due = due.AddDate(0, 0, 2)
	case time.Sunday:
		due = due.AddDate(0, 0, 1)
	}
	return due
}

// daysLate is how many days after its due date a return was submitted
// (submitted non-nil) or, still unsubmitted, has been outstanding at now:
// 0 when on time, that is before its deadline (the database's
// tracker_returns.deadline: the end of the due day in London, so
// submitting at 23:59:59 is on time and at 00:00:00 the next day late,
// whatever the clocks do).
func daysLate(deadline, due time.Time, submitted *time.Time, now time.Time) int {
	at := now
	if submitted != nil {
		at = *submitted
	}
	if at.Before(deadline) {
		return 0
	}
	return int(dates.Today(at).Sub(due).Hours()/24 + 0.5)
}
