package money

import "testing"

func TestParseAndPrint(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in      string
		amount  Amount
		decimal string
		human   string
	}{
		{"1.26", 12600, "1.2600", "£1.26"},
		{"1.2600", 12600, "1.2600", "£1.26"},
		{"0.0125", 125, "0.0125", "£0.0125"},
		{"12", 120000, "12.0000", "£12.00"},
		{"1234567.5", 12345675000, "1234567.5000", "£1,234,567.50"},
		{"-0.5", -5000, "-0.5000", "-£0.50"},
		{".75", 7500, "0.7500", "£0.75"},
	}
	for _, c := range cases {
		got, err := Parse(c.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		if got != c.amount || got.Decimal() != c.decimal || got.String() != c.human {
			t.Errorf("Parse(%q) = %d %s %s, want %d %s %s", c.in, got, got.Decimal(), got, c.amount, c.decimal, c.human)
		}
	}
}

func TestParseRefusesWhatIsNotMoney(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", "-", "1.23456", "1e3", "£1", "1,000", "abc", "1.2.3", "99999999999999999999"} {
		if a, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %d, want an error", in, a)
		}
	}
}

func TestDivRoundHalfAwayFromZero(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   string
		d    int64
		want string
	}{
		{"Exact", "12.00", 12, "1.0000"},
		{"EmisWebGPYearToMonth", "7437.78", 12, "619.8200"}, // 5,903 patients × £1.26 = £7,437.78 a year
		{"HalfPennyUp", "0.125", 1, "0.1300"},               // half away from zero
		{"JustBelowHalf", "0.1249", 1, "0.1200"},
		{"NegativeHalfPennyAway", "-0.125", 1, "-0.1300"},
		{"NegativeBelowHalf", "-0.1249", 1, "-0.1200"},
		{"ThirdOfAPound", "1", 3, "0.3300"},
		{"TwoThirds", "2", 3, "0.6700"},
		{"ProRataNovember", "619.82", 30, "20.6600"},
	}
	for _, c := range cases {
		a, err := Parse(c.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.DivRound(c.d).Decimal(); got != c.want {
			t.Errorf("%s: %s / %d = %s, want %s", c.name, c.in, c.d, got, c.want)
		}
	}
	if got := Amount(12600).Times(5903).String(); got != "£7,437.78" {
		t.Errorf("£1.26 × 5,903 = %s", got)
	}
}
