package billing

import (
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"ccgtracker/internal/dates"
	"ccgtracker/internal/money"
)

func d(y int, m time.Month, day int) *time.Time {
	t := dates.Date(y, m, day)
	return &t
}

func pounds(t *testing.T, s string) money.Amount {
	t.Helper()
	a, err := money.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestChargeHandComputed(t *testing.T) {
	t.Parallel()
	nov := dates.Date(2026, 11, 1)
	feb := dates.Date(2028, 2, 1) // a leap February: 29 days
	emis := func(m1, m2, cess *time.Time) Charged {
		return Charged{UnitPrice: pounds(t, "1.26"), TimeUnit: "year", Quantity: 5903, ActualM1: m1, M2: m2, Cessation: cess}
	}
	cases := []struct {
		name    string
		c       Charged
		first   time.Time
		days    int
		amount  string
		payable bool
		charged bool
	}{
		// £1.26 × 5,903 = £7,437.78 a year; ÷ 12 = £619.815 a month.
		{"FullMonth", emis(d(2026, 1, 1), d(2026, 1, 1), nil), nov, 30, "619.82", true, true},
		{"ActivationOnTheFirst", emis(d(2026, 11, 1), nil, nil), nov, 30, "619.82", false, true},
		// 7,437.78 × 1 ÷ 360 = 20.66050 → £20.66.
		{"ActivationOnTheLastDay", emis(d(2026, 11, 30), nil, nil), nov, 1, "20.66", false, true},
		// Active 12–30 November: 7,437.78 × 19 ÷ 360 = 392.5495 → £392.55 (the example).
		{"ActiveFromThe12th", emis(d(2026, 11, 12), d(2026, 11, 20), nil), nov, 19, "392.55", true, true},
		// Ceasing on the 1st: the cessation day is not charged, so nothing.
		{"CessationOnTheFirst", emis(d(2026, 1, 1), d(2026, 1, 1), d(2026, 11, 1)), nov, 0, "0", true, false},
		{"CessationOnThe16th", emis(d(2026, 1, 1), d(2026, 1, 1), d(2026, 11, 16)), nov, 15, "309.91", true, true},
		{"NotYetLive", emis(nil, nil, nil), nov, 0, "0", false, false},
		{"LiveNextMonth", emis(d(2026, 12, 1), nil, nil), nov, 0, "0", false, false},
		// 29 days in February 2028: 7,437.78 × 10 ÷ 348 = 213.729 → £213.73.
		{"LeapFebruary", emis(d(2028, 2, 20), nil, nil), feb, 10, "213.73", false, true},
		// £35.51 × 2 licences a month, 15 of 30 days: £35.51 exactly.
		{"PerMonthHalf", Charged{UnitPrice: pounds(t, "35.51"), TimeUnit: "month", Quantity: 2, ActualM1: d(2026, 11, 16), M2: d(2026, 11, 20)}, nov, 15, "35.51", true, true},
		// One-off: in full in the month of go-live, never after.
		{"OneOffInItsMonth", Charged{UnitPrice: pounds(t, "1000"), Quantity: 2, ActualM1: d(2026, 11, 30)}, nov, 0, "2000", false, true},
		{"OneOffLater", Charged{UnitPrice: pounds(t, "1000"), Quantity: 2, ActualM1: d(2026, 10, 30)}, nov, 0, "0", false, false},
		// Half a penny rounds away from zero: £0.0125 × 1 per month, 30 of 30 days.
		{"HalfPenny", Charged{UnitPrice: pounds(t, "0.0125"), TimeUnit: "month", Quantity: 1, ActualM1: d(2026, 1, 1), M2: d(2026, 1, 1)}, nov, 30, "0.01", true, true},
		{"HalfPennyUp", Charged{UnitPrice: pounds(t, "0.005"), TimeUnit: "month", Quantity: 3, ActualM1: d(2026, 1, 1)}, nov, 30, "0.02", false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ch, ok := ChargeFor(c.c, c.first)
			if ok != c.charged {
				t.Errorf("%s: charged %v, want %v", c.name, ok, c.charged)
				return
			}
			if !ok {
				return
			}
			if ch.DaysCharged != c.days || ch.Amount != pounds(t, c.amount) || ch.Payable != c.payable {
				t.Errorf("%s: %d days, %s, payable %v; want %d days, £%s, payable %v", c.name, ch.DaysCharged, ch.Amount.Decimal(), ch.Payable, c.days, c.amount, c.payable)
			}
		})
	}
}

// A migration on one day: the old service ceases on D and the new one goes
// live on D. Day D is charged once, by the new service, never twice or not
// at all.
func TestMigrationChargesEachDayOnce(t *testing.T) {
	t.Parallel()
	nov := dates.Date(2026, 11, 1)
	old := Charged{UnitPrice: pounds(t, "30"), TimeUnit: "month", Quantity: 1, ActualM1: d(2026, 1, 1), Cessation: d(2026, 11, 11)}
	fresh := Charged{UnitPrice: pounds(t, "30"), TimeUnit: "month", Quantity: 1, ActualM1: d(2026, 11, 11)}
	a, _ := ChargeFor(old, nov)
	b, _ := ChargeFor(fresh, nov)
	if a.DaysCharged+b.DaysCharged != 30 || a.Amount+b.Amount != pounds(t, "30") {
		t.Errorf("old %d days %s + new %d days %s, want 30 days and £30", a.DaysCharged, a.Amount, b.DaysCharged, b.Amount)
	}
}

// The property: for any go-live and cessation, a line's amount is the
// monthly charge × active days ÷ days in the month, rounded to the penny,
// worked out here independently with exact rationals.
func TestChargePropertyAgainstRationals(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 11))
	for i := range 5000 {
		first := dates.Date(2026+rng.IntN(3), time.Month(1+rng.IntN(12)), 1)
		daysIn := first.AddDate(0, 1, -1).Day()
		m1 := first.AddDate(0, 0, rng.IntN(daysIn+20)-10)
		c := Charged{UnitPrice: money.Amount(rng.Int64N(5_000_000)), Quantity: 1 + rng.IntN(20000), ActualM1: &m1}
		if rng.IntN(2) == 0 {
			c.TimeUnit = "year"
		} else {
			c.TimeUnit = "month"
		}
		if rng.IntN(2) == 0 {
			cess := m1.AddDate(0, 0, 1+rng.IntN(40))
			c.Cessation = &cess
		}
		ch, ok := ChargeFor(c, first)
		// Count the active days one by one.
		days := 0
		for day := first; day.Month() == first.Month(); day = day.AddDate(0, 0, 1) {
			if !day.Before(m1) && (c.Cessation == nil || day.Before(*c.Cessation)) {
				days++
			}
		}
		if ok != (days > 0) || (ok && ch.DaysCharged != days) {
			t.Fatalf("case %d: charged %v for %d days, counted %d", i, ok, ch.DaysCharged, days)
		}
		if !ok {
			continue
		}
		monthly := new(big.Rat).SetFrac64(int64(c.UnitPrice)*int64(c.Quantity), money.Scale)
		if c.TimeUnit == "year" {
			monthly.Quo(monthly, big.NewRat(12, 1))
		}
		exact := new(big.Rat).Mul(monthly, big.NewRat(int64(days), int64(daysIn)))
		// Round half away from zero to the penny.
		pennies := new(big.Rat).Mul(exact, big.NewRat(100, 1))
		q, r := new(big.Int).QuoRem(pennies.Num(), pennies.Denom(), new(big.Int))
		if new(big.Int).Mul(r, big.NewInt(2)).CmpAbs(pennies.Denom()) >= 0 {
			q.Add(q, big.NewInt(1))
		}
		if want := money.Amount(q.Int64() * int64(money.Penny)); ch.Amount != want {
			t.Fatalf("case %d: %+v in %s: %s, want %s", i, c, first.Format("Jan 2006"), ch.Amount.Decimal(), want.Decimal())
		}
	}
}

func TestExplainSaysHowTheChargeWasMade(t *testing.T) {
	t.Parallel()
	c := Charged{UnitPrice: pounds(t, "1.26"), TimeUnit: "year", Quantity: 5903, ActualM1: d(2026, 11, 12), M2: d(2026, 11, 20)}
	ch, _ := ChargeFor(c, dates.Date(2026, 11, 1))
	want := "£1.26 × 5,903 patients ÷ 12 = £619.815 a month; active 12–30 Nov: 19 of 30 days = £392.5495, £392.55 to the penny; payable: M2 on 20 Nov 2026"
	if got := Explain(c, ch, "patients", dates.Date(2026, 11, 1)); got != want {
		t.Errorf("Explain:\n got %s\nwant %s", got, want)
	}
}

// The explanation can be checked from its own figures: the monthly figure
// unrounded (1,986.285 × 15 ÷ 30 = 993.1425, not 1,986.29 × 15 ÷ 30), the
// share before its one rounding, and "≈" where a figure has more places
// than six.
func TestExplainShowsTheUnroundedFigures(t *testing.T) {
	t.Parallel()
	nov := dates.Date(2026, 11, 1)
	for _, c := range []struct {
		name string
		in   Charged
		want string
	}{
		{"PerYearHalfMonth", Charged{UnitPrice: pounds(t, "1.26"), TimeUnit: "year", Quantity: 18917, ActualM1: d(2026, 11, 16)},
			"£1.26 × 18,917 patients ÷ 12 = £1,986.285 a month; active 16–30 Nov: 15 of 30 days = £993.1425, £993.14 to the penny; held until M2 is recorded"},
		{"PerMonthWholeMonth", Charged{UnitPrice: pounds(t, "37.92"), TimeUnit: "month", Quantity: 2, ActualM1: d(2026, 10, 1), M2: d(2026, 10, 2)},
			"£37.92 × 2 patients = £75.84 a month; active 1–30 Nov: 30 of 30 days = £75.84; payable: M2 on 2 Oct 2026"},
		{"AThirdOfAPenny", Charged{UnitPrice: pounds(t, "1.00"), TimeUnit: "year", Quantity: 1, ActualM1: d(2026, 11, 21)},
			"£1.00 × 1 patients ÷ 12 ≈ £0.083333 a month; active 21–30 Nov: 10 of 30 days ≈ £0.027778, £0.03 to the penny; held until M2 is recorded"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ch, ok := ChargeFor(c.in, nov)
			if !ok {
				t.Fatalf("%s: not charged", c.name)
			}
			if got := Explain(c.in, ch, "patients", nov); got != c.want {
				t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
			}
		})
	}
}
