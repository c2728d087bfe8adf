package billing

import (
	"context"
	"time"
)

// Desk is finance's standing for its dashboard: the months it may close
// now and the money of the month to close next and of the month that
// carries the adjustments.
type Desk struct {
	// Ready are the ended months that may be closed now, oldest first:
	// the first open month once a month was ever closed (months close in
	// order), else every ended month of the window (any may be the first).
	Ready []time.Time
	// Next is the month to close next (the first open month, or before
	// any was closed the month just ended); nil when none has ended.
	Next *Month
	// Adjusting is the first open month, which carries the adjustments
	// of the closed months; nil before any month was closed.
	Adjusting *Month
}

// Desk reads the closed months once and computes at most two months
// (each kept in the cache while the inputs stay as they are), however
// many months are open. window is how many months back from today's the
// list of ready months looks, as the reconciliation index does.
func (s *Service) Desk(ctx context.Context, today time.Time, window int) (Desk, error) {
	st, err := ReadStatus(ctx, s.pool)
	if err != nil {
		return Desk{}, err
	}
	this := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC)
	var d Desk
	seen := map[time.Time]bool{}
	consider := func(m time.Time) {
		if !seen[m] && st.State(m, today).Closable {
			d.Ready = append(d.Ready, m)
		}
		seen[m] = true
	}
	if st.FirstOpen != nil {
		consider(*st.FirstOpen)
	}
	for i := window; i >= 1; i-- {
		consider(this.AddDate(0, -i, 0))
	}
	var next time.Time
	switch {
	case st.FirstOpen != nil && len(d.Ready) > 0:
		next = *st.FirstOpen
	case st.FirstOpen == nil:
		next = this.AddDate(0, -1, 0)
	}
	if !next.IsZero() {
		if d.Next, err = s.Month(ctx, next); err != nil {
			return Desk{}, err
		}
	}
	if st.FirstOpen != nil {
		if st.FirstOpen.Equal(next) {
			d.Adjusting = d.Next
		} else if d.Adjusting, err = s.Month(ctx, *st.FirstOpen); err != nil {
			return Desk{}, err
		}
	}
	return d, nil
}
