package org

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
)

// ODSRecord is one row of a standard 27-column ODS practice file (epraccur).
type ODSRecord struct {
	Line               int // 1-based line number in the file
	Code               string
	Name               string
	Postcode           string
	OpenDate           *time.Time
	CloseDate          *time.Time
	Status             string // A, C, D or P
	Commissioner       string // the CCG code (column 15)
	PrescribingSetting string // "4" is a GP practice
}

// ODSRowError is what is wrong with one row of an ODS file, in words.
type ODSRowError struct {
	Line    int
	Column  string
	Message string
}

func (e ODSRowError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Message)
	}
	return fmt.Sprintf("line %d, %s: %s", e.Line, e.Column, e.Message)
}

// The columns of the ODS standard 27-field format that the tracker reads.
const (
	odsColumns            = 27
	odsCode               = 0
	odsName               = 1
	odsPostcode           = 9
	odsOpenDate           = 10
	odsCloseDate          = 11
	odsStatus             = 12
	odsCommissioner       = 14
	odsPrescribingSetting = 25
)

var (
	practiceCodePattern = regexp.MustCompile(`^[A-Z][0-9]{5}$`)
	odsOrgCodePattern   = regexp.MustCompile(`^[A-Z0-9]{3,6}$`)
)

// ParseODS reads an ODS practice file (no header, 27 quoted columns). It
// returns every well-formed record, and an error for each bad row: callers
// must apply nothing when any row is bad.
func ParseODS(r io.Reader) ([]ODSRecord, []ODSRowError) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // checked per row, to report the row
	cr.ReuseRecord = true
	var recs []ODSRecord
	var errs []ODSRowError
	for {
		fields, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line := 0
			var perr *csv.ParseError
			if errors.As(err, &perr) {
				line = perr.StartLine
			}
			errs = append(errs, ODSRowError{Line: line, Message: "the row is not valid CSV: " + err.Error()})
			if len(errs) >= 1000 {
				break
			}
			continue
		}
		// The physical line the record starts on, so a blank line or a
		// quoted field spanning lines does not shift later numbers.
		line, _ := cr.FieldPos(0)
		if len(fields) != odsColumns {
			errs = append(errs, ODSRowError{Line: line, Message: fmt.Sprintf("has %d columns; an ODS practice file has %d", len(fields), odsColumns)})
			continue
		}
		rec, rowErrs := parseODSRow(line, fields)
		if len(rowErrs) > 0 {
			errs = append(errs, rowErrs...)
			continue
		}
		recs = append(recs, rec)
	}
	return recs, errs
}

func parseODSRow(line int, f []string) (ODSRecord, []ODSRowError) {
	var errs []ODSRowError
	bad := func(col, format string, args ...any) {
		errs = append(errs, ODSRowError{Line: line, Column: col, Message: fmt.Sprintf(format, args...)})
	}
	field := func(i int) string { return strings.TrimSpace(f[i]) }
	rec := ODSRecord{
		Line:               line,
		Code:               field(odsCode),
		Name:               field(odsName),
		Postcode:           field(odsPostcode),
		Status:             field(odsStatus),
		Commissioner:       field(odsCommissioner),
		PrescribingSetting: field(odsPrescribingSetting),
	}
	// Column 1 holds every kind of organisation code, not only practices'.
	if !odsOrgCodePattern.MatchString(rec.Code) {
		bad("column 1 (organisation code)", "%q is not an ODS code", rec.Code)
	}
	if rec.Name == "" {
		bad("column 2 (name)", "is empty")
	}
	date := func(col int, name string) *time.Time {
		s := field(col)
		if s == "" {
			return nil
		}
		d, err := time.Parse("20060102", s)
		if err != nil {
			bad(fmt.Sprintf("column %d (%s)", col+1, name), "%q is not a date in the form YYYYMMDD", s)
			return nil
		}
		return &d
	}
	rec.OpenDate = date(odsOpenDate, "open date")
	rec.CloseDate = date(odsCloseDate, "close date")
	if rec.OpenDate != nil && rec.CloseDate != nil && rec.CloseDate.Before(*rec.OpenDate) {
		bad("column 12 (close date)", "%s is before the open date %s", rec.CloseDate.Format("2 January 2006"), rec.OpenDate.Format("2 January 2006"))
	}
	switch rec.Status {
	case "A", "C", "D", "P":
	default:
		bad("column 13 (status)", "%q is not one of A, C, D or P", rec.Status)
	}
	if rec.Commissioner != "" && !odsOrgCodePattern.MatchString(rec.Commissioner) {
		bad("column 15 (commissioner)", "%q is not an ODS code", rec.Commissioner)
	}
	return rec, errs
}

// IsPractice reports whether the record is a GP practice with a practice
// code (prescribing setting 4), the only kind the tracker keeps.
func (r ODSRecord) IsPractice() bool {
	return r.PrescribingSetting == "4" && practiceCodePattern.MatchString(r.Code)
}
