package upload

import (
	"encoding/csv"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestWideCSVRecord(t *testing.T) {
	t.Parallel()
	many := strings.Repeat(",", 300)
	cases := []struct {
		name string
		data string
		line int
	}{
		{"Narrow", "a,b,c\n1,2,3\n", 0},
		{"WideFirstRow", many + "\n", 1},
		{"WideAfterBlankLines", "a,b\n\n\r\n" + many, 4},
		{"CommasInsideQuotesAreOneCell", `"` + many + `"` + "\n", 0},
		{"QuotedCellsWithLineBreaks", strings.Repeat("\"x\ny\",", 300) + "\n", 1},
		// A bare quote ends its record for encoding/csv, which then reads
		// the next line afresh: so must the count.
		{"AfterABareQuote", "a\"b,c\n" + many + "\n", 2},
		{"AfterAStrayQuote", "\"a\"b,c\n" + many + "\n", 2},
	}
	long := strings.Repeat("a", MaxXMLRun+1)
	for name, data := range map[string]string{
		"OneLongCell": "a,b\n" + long + "\n", "LongQuotedCellAcrossLines": "a,b\n\"" + strings.Repeat("x\n", MaxXMLRun/2+1) + "\"\n",
	} {
		if line, problem := CheckCSV([]byte(data), ',', 200); problem != TooLong || line != 2 {
			t.Errorf("%s: line %d, problem %d; want line 2 too long", name, line, problem)
		}
	}
	for _, c := range cases {
		line, problem := CheckCSV([]byte(c.data), ',', 200)
		if (problem == TooWide) != (c.line > 0) || line != c.line {
			t.Errorf("%s: line %d, problem %d; want line %d too wide", c.name, line, problem, c.line)
		}
	}
}

// On any data, the count is never below the fields encoding/csv makes of
// a record, so nothing wider than the limit reaches it.
func TestWideCSVRecordNeverCountsFewerThanEncodingCSV(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte{',', ',', '"', '\n', 'a', '\r', ' '}
	for range 20000 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		widest := 0
		cr := csv.NewReader(strings.NewReader(string(b)))
		cr.FieldsPerRecord = -1
		for {
			rec, err := cr.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				var pe *csv.ParseError
				if !errors.As(err, &pe) {
					break
				}
				continue
			}
			widest = max(widest, len(rec))
		}
		if widest > 1 {
			if _, problem := CheckCSV(b, ',', widest-1); problem != TooWide {
				t.Fatalf("%q: encoding/csv makes a record of %d fields, not found over %d", b, widest, widest-1)
			}
		}
	}
}
