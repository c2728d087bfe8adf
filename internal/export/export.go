// Package export writes tables for spreadsheets (CSV) so that no cell can
// run as a formula: a text cell that a spreadsheet would read as one (it
// starts with =, +, -, @, a tab or a carriage return) gets a leading
// apostrophe, the escape spreadsheets themselves use.
package export

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"

	"ccgtracker/internal/money"
)

// SafeText escapes a text cell against formula injection.
func SafeText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// CSV writes rows of text cells, escaping each.
type CSV struct {
	w *csv.Writer
}

// NewCSV returns a CSV writer on w with CRLF line ends, as spreadsheets expect.
func NewCSV(w io.Writer) *CSV {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	return &CSV{w: cw}
}

// Text writes a row whose cells are all text (each escaped).
func (c *CSV) Text(cells ...string) error {
	row := make([]string, len(cells))
	for i, s := range cells {
		row[i] = SafeText(s)
	}
	return c.w.Write(row)
}

// Row writes a row of typed cells: Num cells (numbers and amounts the
// program formats itself) are written as they are, every other cell is
// escaped as text.
func (c *CSV) Row(cells ...Cell) error {
	row := make([]string, len(cells))
	for i, cell := range cells {
		row[i] = cell.csv()
	}
	return c.w.Write(row)
}

// Flush writes any buffered rows and returns the first error.
func (c *CSV) Flush() error {
	c.w.Flush()
	return c.w.Error()
}

// Cell is one cell of a row: text, a number, an amount of money or a
// date. CSV writes each as text (text escaped); XLSX writes numbers,
// money and dates as typed cells with a number format.
type Cell struct {
	kind   cellKind
	value  string // text, or a number as written
	amount money.Amount
	date   time.Time
}

type cellKind uint8

const (
	kindText cellKind = iota
	kindNumber
	kindMoney
	kindDate
	kindEmpty
)

// Str is a text cell: escaped.
func Str(s string) Cell { return Cell{value: s} }

// Num is a number the program formatted (an amount such as -12.50): a
// leading minus is a sign here, not a formula, so it is not escaped.
func Num(s string) Cell { return Cell{kind: kindNumber, value: s} }

// Int is a whole number.
func Int(n int) Cell { return Cell{kind: kindNumber, value: strconv.Itoa(n)} }

// Money is an amount in pounds: in CSV as PlainAmount writes it, in XLSX
// a number in the currency format.
func Money(a money.Amount) Cell { return Cell{kind: kindMoney, amount: a} }

// Date is a calendar day (nil: an empty cell): in CSV as YYYY-MM-DD, in
// XLSX a date cell.
func Date(t *time.Time) Cell {
	if t == nil {
		return Cell{kind: kindEmpty}
	}
	return Cell{kind: kindDate, date: *t}
}

// csv is the cell as CSV text.
func (c Cell) csv() string {
	switch c.kind {
	case kindNumber:
		return c.value
	case kindMoney:
		return PlainAmount(c.amount)
	case kindDate:
		return c.date.Format(time.DateOnly)
	case kindEmpty:
		return ""
	}
	return SafeText(c.value)
}

// PlainAmount prints an amount for a spreadsheet: pounds with two decimal
// places, or up to four where a price has them ("1.26", "-12.50", "0.0125").
func PlainAmount(a money.Amount) string {
	d := a.Decimal()
	for range 2 {
		d = strings.TrimSuffix(d, "0")
	}
	if i := strings.IndexByte(d, '.'); len(d)-i < 3 {
		d += strings.Repeat("0", 3-(len(d)-i))
	}
	return d
}
