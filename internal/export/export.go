// Package export writes tables for spreadsheets (CSV) so that no cell can
// run as a formula: a text cell that a spreadsheet would read as one (it
// starts with =, +, -, @, a tab or a carriage return) gets a leading
// apostrophe, the escape spreadsheets themselves use.
package export

import (
	"encoding/csv"
	"io"
	"strings"
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
		if cell.number {
			row[i] = cell.value
		} else {
			row[i] = SafeText(cell.value)
		}
	}
	return c.w.Write(row)
}

// Flush writes any buffered rows and returns the first error.
func (c *CSV) Flush() error {
	c.w.Flush()
	return c.w.Error()
}

// Cell is one cell of a row.
type Cell struct {
	value  string
	number bool
}

// Str is a text cell: escaped.
func Str(s string) Cell { return Cell{value: s} }

// Num is a number the program formatted (an amount such as -12.50): a
// leading minus is a sign here, not a formula, so it is not escaped.
func Num(s string) Cell { return Cell{value: s, number: true} }
