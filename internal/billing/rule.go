// Package billing is reconciliation (DOMAIN.md §8): what each service
// instance costs each month, from the service ledger, computed exactly and
// rounded once per line; months closed by finance, frozen; and the
// adjustments later changes make to closed months.
package billing

import (
	"fmt"
	"strings"
	"time"

	"ccgtracker/internal/money"
)

// Charged is what the rule needs of a service instance.
type Charged struct {
	UnitPrice money.Amount
	TimeUnit  string // month, year, or "" for one-off
	Quantity  int
	ActualM1  *time.Time
	M2        *time.Time
	Cessation *time.Time
	// PerPatient: the quantity is the practice's list size in force,
	// from the extract of ListDate (nil before the practice's first
	// extract: the order's own quantity). Only the explanation reads them.
	PerPatient bool
	ListDate   *time.Time
}

// Charge is one month's charge of one instance.
type Charge struct {
	DaysCharged int
	DaysInMonth int
	Amount      money.Amount // rounded to the penny
	Payable     bool         // M2 recorded by the end of the month
	OneOff      bool
}

// ChargeFor applies the rule of DOMAIN.md §8 to one instance for the month
// starting first. ok is false when the instance is not charged that month.
//
// monthly charge = price × quantity (per month) or price × quantity ÷ 12
// (per year); days charged = the days of the month in [actual M1,
// cessation); amount = monthly charge × days charged ÷ days in the month,
// computed exactly and rounded half away from zero to the penny once.
// One-off prices are charged in full in the month of actual M1.
func ChargeFor(c Charged, first time.Time) (Charge, bool) {
	last := first.AddDate(0, 1, -1)
	daysIn := last.Day()
	ch := Charge{DaysInMonth: daysIn}
	if c.ActualM1 == nil || c.ActualM1.After(last) {
		return ch, false
	}
	ch.Payable = c.M2 != nil && !c.M2.After(last)
	base := c.UnitPrice.Times(int64(c.Quantity))
	if c.TimeUnit == "" {
		if c.ActualM1.Before(first) {
			return ch, false
		}
		ch.OneOff, ch.Amount = true, base.RoundPenny()
		return ch, true
	}
	from := first
	if c.ActualM1.After(from) {
		from = *c.ActualM1
	}
	to := last.AddDate(0, 0, 1) // exclusive
	if c.Cessation != nil && c.Cessation.Before(to) {
		to = *c.Cessation
	}
	if !to.After(from) {
		return ch, false
	}
	ch.DaysCharged = int(to.Sub(from).Hours() / 24)
	den := int64(daysIn)
	if c.TimeUnit == "year" {
		den *= 12
	}
	ch.Amount = base.Times(int64(ch.DaysCharged)).DivRound(den)
	return ch, true
}

// Explain says in words how a charge was made, for its line's page, so
// that it can be checked from its own figures: the monthly figure is shown
// unrounded, and so is the month's share of it before the one rounding to
// the penny: "£1.26 × 5,903 patients ÷ 12 = £619.815 a month; active
// 12–30 Nov: 19 of 30 days = £392.5495, £392.55 to the penny; payable: M2
// on 20 Nov". A figure with more than six decimal places (a third of a
// penny, say) is shown to six, with "≈".
func Explain(c Charged, ch Charge, unit string, first time.Time) string {
	qty := fmt.Sprintf("%s %s", number(c.Quantity), unit)
	switch {
	case c.ListDate != nil:
		qty += ", list of " + c.ListDate.Format("2 January 2006") + ","
	case c.PerPatient:
		qty += " as ordered (no list size on or before the month),"
	}
	base := int64(c.UnitPrice.Times(int64(c.Quantity))) // ten-thousandths of a pound
	var s string
	monthDen := int64(1)
	switch c.TimeUnit {
	case "":
		s = fmt.Sprintf("%s × %s, one-off, charged in the month it went live = %s", c.UnitPrice, qty, ch.Amount)
	case "year":
		monthDen = 12
		s = fmt.Sprintf("%s × %s ÷ 12 %s a month", c.UnitPrice, qty, exactly(base, monthDen))
	default:
		s = fmt.Sprintf("%s × %s %s a month", c.UnitPrice, qty, exactly(base, monthDen))
	}
	if c.TimeUnit != "" {
		from := first
		if c.ActualM1.After(from) {
			from = *c.ActualM1
		}
		to := from.AddDate(0, 0, ch.DaysCharged-1)
		share := exactly(base*int64(ch.DaysCharged), monthDen*int64(ch.DaysInMonth))
		if share != "= "+ch.Amount.String() {
			share += ", " + ch.Amount.String() + " to the penny"
		}
		s += fmt.Sprintf("; active %d–%s: %d of %d days %s", from.Day(), to.Format("2 Jan"), ch.DaysCharged, ch.DaysInMonth, share)
	}
	if ch.Payable {
		s += "; payable: M2 on " + c.M2.Format("2 Jan 2006")
	} else {
		s += "; held until M2 is recorded"
	}
	return s
}

// exactly prints num ÷ den ten-thousandths of a pound after "= ", exact
// to as many places as it has (two at least), or after "≈ " to six places
// when it has more.
func exactly(num, den int64) string {
	const places = 100 // millionths of a pound per ten-thousandth
	scaled, rem := num*places/den, num*places%den
	sign := "= "
	if rem != 0 {
		sign = "≈ "
		if 2*rem >= den {
			scaled++ // half away from zero (amounts are not negative)
		}
	}
	pounds, frac := scaled/1_000_000, fmt.Sprintf("%06d", scaled%1_000_000)
	frac = frac[:2] + strings.TrimRight(frac[2:], "0")
	return sign + "£" + number64(pounds) + "." + frac
}

func number(n int) string { return number64(int64(n)) }

func number64(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
