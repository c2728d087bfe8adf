package ledger

import (
	"errors"
	"strings"
	"testing"
	"time"

	"ccgtracker/internal/apperr"
)

// The parsing of a continuity file (ImportContinuity before it reads the
// database), for any bytes: never a panic; a file that is no continuity
// file is an Invalid error in words; every problem of a row is words with
// its line; every row read is trimmed, its codes upper case, its start a
// date at midnight UTC or none when the row has a problem with it.
func FuzzParseContinuity(f *testing.F) {
	for _, s := range []string{
		"practice,supplier,item,start_date\nA81001,EMIS Health,10000-001,2020-01-01\n b82005 , TPP ,10052-002, 2020-01-01\n",
		"\xef\xbb\xbfSTART_DATE,Item,Supplier,Practice\r\n2020-01-01,10000-001,EMIS,A81001\r\n",
		"practice,supplier,item,start_date\nA81001,EMIS,10000-001,\nA81001,EMIS,10000-001,1/1/2020\nA81001,EMIS\n\"bad\"quote,,,\n",
		"practice,supplier,item\n", "", "\"unclosed", "practice,practice,item,start_date\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rows, errs, err := parseContinuity(strings.NewReader(string(b)))
		if err != nil {
			var ae *apperr.Error
			if !errors.As(err, &ae) || ae.Code != apperr.Invalid || strings.TrimSpace(err.Error()) == "" || rows != nil || errs != nil {
				t.Fatalf("file error %#v with %d rows, %d problems", err, len(rows), len(errs))
			}
			return
		}
		for _, e := range errs {
			if e.Line < 0 || strings.TrimSpace(e.Message) == "" {
				t.Fatalf("bad problem %+v", e)
			}
		}
		bad := map[int]bool{}
		for _, e := range errs {
			if e.Column == colStartDate {
				bad[e.Line] = true
			}
		}
		for _, r := range rows {
			if r.line < 2 || r.practice != strings.ToUpper(strings.TrimSpace(r.practice)) || r.item != strings.ToUpper(strings.TrimSpace(r.item)) ||
				r.supplier != strings.TrimSpace(r.supplier) {
				t.Fatalf("bad row %+v", r)
			}
			if r.start.IsZero() != bad[r.line] {
				t.Fatalf("row %+v: start date problem %v", r, bad[r.line])
			}
			if !r.start.IsZero() && (r.start.Location() != time.UTC || r.start.Hour()+r.start.Minute()+r.start.Second() != 0) {
				t.Fatalf("row %+v: start is not a day", r)
			}
		}
	})
}
