// Package money holds amounts of pounds exactly. Catalogue prices carry up to
// four decimal places, so an Amount counts ten-thousandths of a pound in an
// int64: no float ever touches money.
package money

import (
	"fmt"
	"strconv"
	"strings"
)

// Amount is a sum of money in ten-thousandths of a pound (£1 = 10000).
type Amount int64

// Scale is the number of Amount units in one pound.
const Scale = 10000

// Parse reads a decimal number of pounds such as "1.26", "-0.5" or "12",
// with at most four decimal places. It accepts what PostgreSQL prints for a
// numeric(18,4), so prices can be read as text without rounding.
func Parse(s string) (Amount, error) {
	s = strings.TrimSpace(s)
	neg := strings.HasPrefix(s, "-")
	digits := strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	whole, frac, _ := strings.Cut(digits, ".")
	if whole == "" && frac == "" || len(frac) > 4 || !allDigits(whole) || !allDigits(frac) {
		return 0, fmt.Errorf("%q is not an amount of pounds with at most 4 decimal places", s)
	}
	frac += strings.Repeat("0", 4-len(frac))
	if whole == "" {
		whole = "0"
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > (1<<63-1)/Scale-1 {
		return 0, fmt.Errorf("%q is too large an amount", s)
	}
	f, _ := strconv.ParseInt(frac, 10, 64)
	a := Amount(w*Scale + f)
	if neg {
		a = -a
	}
	return a, nil
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Decimal prints the amount with four decimal places ("1.2600"), the form
// PostgreSQL's numeric accepts back unchanged.
func (a Amount) Decimal() string {
	sign := ""
	if a < 0 {
		sign, a = "-", -a
	}
	return fmt.Sprintf("%s%d.%04d", sign, a/Scale, a%Scale)
}

// String prints pounds for people: "£1.26", "£1,234.50", "£0.0125". Two
// decimal places at least, and the other two only where they are not zero.
func (a Amount) String() string {
	sign := ""
	if a < 0 {
		sign, a = "-", -a
	}
	whole := strconv.FormatInt(int64(a/Scale), 10)
	for i := len(whole) - 3; i > 0; i -= 3 {
		whole = whole[:i] + "," + whole[i:]
	}
	frac := fmt.Sprintf("%04d", a%Scale)
	frac = strings.TrimRight(frac[2:], "0")
	frac = fmt.Sprintf("%04d", a%Scale)[:2] + frac
	return sign + "£" + whole + "." + frac
}

// Penny is one penny as an Amount.
const Penny Amount = Scale / 100

// Times multiplies the amount by a whole number, exactly.
func (a Amount) Times(n int64) Amount { return a * Amount(n) }

// DivRound divides the amount by d and rounds the result half away from
// zero to the penny: the one rounding a report line gets (DOMAIN.md §2).
func (a Amount) DivRound(d int64) Amount {
	if d <= 0 {
		panic("money: DivRound by a number that is not positive")
	}
	num := int64(a)
	den := d * int64(Penny)
	q, r := num/den, num%den
	// Compare twice the remainder with the divisor, away from zero.
	if r < 0 {
		r = -r
	}
	if 2*r >= den {
		if num < 0 {
			q--
		} else {
			q++
		}
	}
	return Amount(q) * Penny
}

// RoundPenny rounds the amount half away from zero to the penny.
func (a Amount) RoundPenny() Amount { return a.DivRound(1) }
