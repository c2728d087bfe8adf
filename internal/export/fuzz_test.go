package export

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// cellSeeds are texts a spreadsheet would run, or that XML cannot carry.
var cellSeeds = []string{
	"", "plain", "=HYPERLINK(\"http://evil\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "\r=1+1", "a,b\"c\"\r\nd",
	" =1", "'=1", "\x00=1", "\xff\xfe", "a\x01b\x0bc\x1f", "\ufffe\uffff", "\ud7ff\ue000", "<t>&amp;</t>]]>", "é\u2028",
}

// triggers are the first characters that make a spreadsheet read a cell
// as a formula.
const triggers = "=+-@\t\r"

func startsFormula(s string) bool { return s != "" && strings.ContainsRune(triggers, rune(s[0])) }

// A text cell of any string, written as CSV and read back by encoding/csv:
// it is the escaped text (less the carriage returns encoding/csv drops
// with CRLF line ends), so nothing is lost or shifted into another cell,
// and it never starts with a formula's first character.
func FuzzCSVText(f *testing.F) {
	for _, s := range cellSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var buf bytes.Buffer
		w := NewCSV(&buf)
		if err := w.Text(s, "after"); err != nil {
			t.Fatal(err)
		}
		if err := w.Row(Str(s), Num("-1.50")); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		r := csv.NewReader(&buf)
		r.FieldsPerRecord = 2
		want := strings.ReplaceAll(SafeText(s), "\r", "")
		for i, second := range []string{"after", "-1.50"} {
			rec, err := r.Read()
			if err != nil {
				t.Fatalf("row %d of %q: %v", i+1, s, err)
			}
			if rec[0] != want || rec[1] != second {
				t.Fatalf("row %d of %q read back as %q, want %q", i+1, s, rec, []string{want, second})
			}
			if startsFormula(rec[0]) {
				t.Fatalf("%q is written as %q, a formula", s, rec[0])
			}
		}
		if _, err := r.Read(); !errors.Is(err, io.EOF) {
			t.Fatalf("%q: more than two rows: %v", s, err)
		}
	})
}

// xmlText is what an XML reader gets back from s written by
// xml.EscapeText: each character XML cannot carry (an invalid byte, a
// control character, U+FFFE) is U+FFFD.
func xmlText(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		ok := r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
		if !ok || r == utf8.RuneError && n == 1 {
			r = utf8.RuneError
		}
		b.WriteRune(r)
		i += n
	}
	return b.String()
}

// A text cell of any string in a workbook: every part stays well-formed
// XML, the cell reads back (with encoding/xml and with excelize) as the
// escaped text with what XML cannot carry replaced, and that text never
// starts with a formula's first character.
func FuzzXLSXText(f *testing.F) {
	for _, s := range cellSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var buf bytes.Buffer
		x, err := NewXLSX(&buf, "Data")
		if err != nil {
			t.Fatal(err)
		}
		if err := x.Sheet(1, 2); err != nil {
			t.Fatal(err)
		}
		if err := x.Head(s, "h"); err != nil {
			t.Fatal(err)
		}
		if err := x.Row(Str(s), Num(s)); err != nil {
			t.Fatal(err)
		}
		if err := x.Close(); err != nil {
			t.Fatal(err)
		}
		zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatal(err)
		}
		var texts []string
		for _, zf := range zr.File {
			rc, err := zf.Open()
			if err != nil {
				t.Fatal(err)
			}
			d := xml.NewDecoder(rc)
			inT := false
			for {
				tok, err := d.Token()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("%s of %q is not well-formed XML: %v", zf.Name, s, err)
				}
				switch tok := tok.(type) {
				case xml.StartElement:
					inT = tok.Name.Local == "t"
					if inT {
						texts = append(texts, "")
					}
				case xml.CharData:
					if inT {
						texts[len(texts)-1] += string(tok)
					}
				case xml.EndElement:
					inT = false
				}
			}
			_ = rc.Close()
		}
		want := xmlText(SafeText(s))
		if s == "" {
			// An empty text cell is not written.
			if len(texts) != 1 || texts[0] != "h" {
				t.Fatalf("texts %q, want only the heading h", texts)
			}
			return
		}
		if len(texts) != 3 || texts[0] != want || texts[1] != "h" || texts[2] != want {
			t.Fatalf("%q: texts %q, want %q, h, %q", s, texts, want, want)
		}
		if startsFormula(want) {
			t.Fatalf("%q is written as %q, a formula", s, want)
		}
		wb, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatalf("excelize cannot open the workbook of %q: %v", s, err)
		}
		defer func() { _ = wb.Close() }()
		for _, cell := range []string{"A1", "A2"} {
			if got, err := wb.GetCellValue("Data", cell); err != nil || got != want {
				t.Fatalf("excelize reads %s of %q as %q (%v), want %q", cell, s, got, err, want)
			}
		}
	})
}
