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
