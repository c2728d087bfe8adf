package export

import (
	"bytes"
	"encoding/csv"
	"testing"
)

func TestFormulaCellsAreEscapedAndStillParse(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w := NewCSV(&buf)
	in := []string{"=HYPERLINK(\"http://evil\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "plain, with comma", "", "C010001-01"}
	if err := w.Text(in...); err != nil {
		t.Fatal(err)
	}
	if err := w.Row(Num("-12.50"), Str("-12.50")); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(bytes.NewReader(buf.Bytes()))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// encoding/csv drops a lone carriage return inside a field (with CRLF
	// line ends); what matters is that the cell still starts with the escape.
	want := []string{"'=HYPERLINK(\"http://evil\")", "'+1", "'-2+3", "'@SUM(A1)", "'\tx", "'x", "plain, with comma", "", "C010001-01"}
	for i := range want {
		if rows[0][i] != want[i] {
			t.Errorf("cell %d = %q, want %q", i, rows[0][i], want[i])
		}
	}
	if rows[1][0] != "-12.50" || rows[1][1] != "'-12.50" {
		t.Errorf("numbers: %q", rows[1])
	}
}
