package order_test

import (
	"regexp"
	"strings"
	"testing"

	"ccgtracker/internal/order"
)

var practiceCode = regexp.MustCompile(`^[A-Z][0-9]{5}$`)

// A recipients file of any bytes: never a panic; codes read are practice
// codes; when no code is read there is a problem saying why; problems are
// words, and at most 100 of them are listed.
func FuzzParseRecipientCSV(f *testing.F) {
	for _, s := range []string{
		"ODS code\nA81001\nb82005 \n\n",
		"\ufeffA81001,Some practice\r\nA81002,\"Other, practice\"\r\n",
		"A81001\nnot a code\n\"unclosed\nA81003",
		"a\"b\n" + strings.Repeat(",", 250) + "\n",
		"", "\x00\xff\xfe", "\"\"\n\"A81001\"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		codes, problems := order.ParseRecipientCSV(strings.NewReader(string(b)))
		for _, c := range codes {
			if !practiceCode.MatchString(c) {
				t.Fatalf("%q read as a practice code", c)
			}
		}
		if len(codes) == 0 && len(problems) == 0 {
			t.Fatal("no codes and no problem")
		}
		if len(problems) > 101 {
			t.Fatalf("%d problems listed", len(problems))
		}
		for _, p := range problems {
			if strings.TrimSpace(p) == "" {
				t.Fatalf("an empty problem among %q", problems)
			}
		}
	})
}
