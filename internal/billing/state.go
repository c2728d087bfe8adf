package billing

import (
	"context"
	"fmt"
	"time"

	"ccgtracker/internal/dates"
	"ccgtracker/internal/postgres"
)

// Status is which months are closed, and the first open one (nil when no
// month was ever closed: every month is then open and closable in turn).
type Status struct {
	Closed    map[time.Time]ClosedMonth
	FirstOpen *time.Time
}

// ReadStatus reads the closed months once; the first open month follows
// from them.
func ReadStatus(ctx context.Context, db postgres.Querier) (Status, error) {
	closed, err := ClosedMonths(ctx, db)
	if err != nil {
		return Status{}, err
	}
	st := Status{Closed: closed}
	for p := range closed {
		if next := p.AddDate(0, 1, 0); st.FirstOpen == nil || next.After(*st.FirstOpen) {
			st.FirstOpen = &next
		}
	}
	return st, nil
}

// MonthState is a month's standing, in words, and whether it may be
// closed now.
type MonthState struct {
	Closed   bool
	Words    string
	Closable bool
	// Refusal is why it cannot be closed now, in words ("" when it can).
	Refusal string
}

// State describes the month starting first on the day today: closed (when
// and by whom), or open; an open month may be closed once it has ended
// when it is the first open month, or no month was ever closed (months
// close in order, once, with no re-opening).
func (st Status) State(first, today time.Time) MonthState {
	name := first.Format("January 2006")
	if c, ok := st.Closed[first]; ok {
		return MonthState{Closed: true, Words: "Closed on " + c.At.In(dates.London).Format("2 January 2006 at 15:04") + " by " + c.By,
			Refusal: name + " is closed already."}
	}
	ended := !first.AddDate(0, 1, 0).After(today)
	switch {
	case !ended:
		return MonthState{Words: "Not ended yet", Refusal: name + " has not ended yet, so it cannot be closed."}
	case st.FirstOpen == nil || st.FirstOpen.Equal(first):
		return MonthState{Words: "Ended, ready to close", Closable: true}
	case first.Before(*st.FirstOpen):
		return MonthState{Words: "Before the first closed month", Refusal: closeFirst(*st.FirstOpen)}
	default:
		return MonthState{Words: "Ended; earlier months close first", Refusal: closeFirst(*st.FirstOpen)}
	}
}

func closeFirst(open time.Time) string {
	return fmt.Sprintf("Months close in order: close %s first.", open.Format("January 2006"))
}
