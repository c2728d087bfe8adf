package org

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/audit"
	"ccgtracker/internal/postgres"
)

// List sizes (issue 13): NHS Digital's "Patients Registered at a GP
// Practice", one file a month, each the list sizes as at its extract date.
// Every extract is kept, one row per practice and date, so that billing can
// use the size in force in any month (internal/billing) and the practice
// page can show the history.

// The columns a list-size file must have, as NHS Digital names them.
const (
	lsColExtractDate = "EXTRACT_DATE"
	lsColCode        = "CODE"
	lsColPatients    = "NUMBER_OF_PATIENTS"
	lsColSex         = "SEX"
	lsColAge         = "AGE"
)

// ListSizeRow is one practice's size in a list-size file.
type ListSizeRow struct {
	Line     int
	Code     string
	Date     time.Time
	Patients int
}

// ListSizeFileError is a list-size file with bad rows, of which none was
// imported. It is an Invalid error: the person who chose the file can mend
// it.
type ListSizeFileError struct {
	Errors []ODSRowError // in line order: line, column and what is wrong
}

// Error lists the bad rows, one a line (the first 50).
func (e *ListSizeFileError) Error() string { return rowErrorsText("list-size", e.Errors) }

// Unwrap classifies the error as Invalid.
func (e *ListSizeFileError) Unwrap() error {
	return &apperr.Error{Code: apperr.Invalid, Message: e.Error()}
}

// ParseListSizeDate reads an extract date as NHS Digital writes it
// ("01JAN2021"), or as an ISO date.
func ParseListSizeDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse("02Jan2006", titleMonth(strings.ToUpper(s))); err == nil {
		return t, true
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// ParseListSizes reads a list-size file: its header names the columns, in
// any order; every row must be a practice (a code), the file's one extract
// date and a whole number of patients, each practice once. Rows that break
// the patients down by sex or age are refused: the file to import is the
// "all" one. It returns every row, or every problem by line and column.
func ParseListSizes(r io.Reader) ([]ListSizeRow, []ODSRowError) {
	cr := csv.NewReader(withoutBOM(r))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, []ODSRowError{{Line: 1, Message: "the file is empty"}}
	}
	if err != nil {
		return nil, []ODSRowError{{Line: 1, Message: "the header is not CSV: " + csvReason(err)}}
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToUpper(strings.TrimSpace(h))] = i
	}
	var missing []string
	for _, c := range []string{lsColExtractDate, lsColCode, lsColPatients} {
		if _, ok := col[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, []ODSRowError{{Line: 1, Message: "the header has no " + strings.Join(missing, ", ") +
			" column: this is not a Patients Registered at a GP Practice file"}}
	}
	column := func(name string) string {
		return fmt.Sprintf("column %d (%s)", col[name]+1, name)
	}
	var rows []ListSizeRow
	var errs []ODSRowError
	firstLine := map[string]int{}
	var fileDate *time.Time
	dateLine := 0
	for {
		fields, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			errs = append(errs, ODSRowError{Line: line, Message: "not readable as CSV: " + csvReason(err)})
			if len(errs) > 1000 {
				break
			}
			continue
		}
		get := func(name string) (string, bool) {
			i, ok := col[name]
			if !ok || i >= len(fields) {
				return "", false
			}
			return strings.TrimSpace(fields[i]), true
		}
		if len(fields) == 1 && strings.TrimSpace(fields[0]) == "" {
			continue // a blank line at the end
		}
		bad := func(name, msg string) {
			errs = append(errs, ODSRowError{Line: line, Column: column(name), Message: msg})
		}
		for _, name := range []string{lsColSex, lsColAge} {
			if v, ok := get(name); ok && !strings.EqualFold(v, "ALL") {
				bad(name, fmt.Sprintf("is %q: this file breaks patients down by sex or age; import the file of all patients (gp-reg-pat-prac-all)", v))
			}
		}
		row := ListSizeRow{Line: line}
		okRow := true
		code, _ := get(lsColCode)
		code = strings.ToUpper(code)
		switch {
		case code == "":
			bad(lsColCode, "is empty: enter the practice's ODS code")
			okRow = false
		case !practiceCode(code):
			bad(lsColCode, fmt.Sprintf("%q is not a practice code (a letter and five digits, like A81001)", shorten(code)))
			okRow = false
		case firstLine[code] != 0:
			bad(lsColCode, fmt.Sprintf("%s is also on line %d; each practice may appear only once", code, firstLine[code]))
			okRow = false
		default:
			firstLine[code] = line
		}
		row.Code = code
		ds, _ := get(lsColExtractDate)
		d, ok := ParseListSizeDate(ds)
		switch {
		case !ok:
			bad(lsColExtractDate, fmt.Sprintf("%q is not a date like 01JAN2021", shorten(ds)))
			okRow = false
		case fileDate == nil:
			fileDate, dateLine = &d, line
		case !d.Equal(*fileDate):
			bad(lsColExtractDate, fmt.Sprintf("is %s but line %d is %s: a file holds one extract", d.Format("2 January 2006"), dateLine, fileDate.Format("2 January 2006")))
			okRow = false
		}
		row.Date = d
		ps, _ := get(lsColPatients)
		n, err := strconv.Atoi(ps)
		switch {
		case err != nil:
			bad(lsColPatients, fmt.Sprintf("%q is not a whole number of patients", shorten(ps)))
			okRow = false
		case n < 0:
			bad(lsColPatients, fmt.Sprintf("%d is negative: a list size is 0 or more", n))
			okRow = false
		}
		row.Patients = n
		if okRow {
			rows = append(rows, row)
		}
	}
	if len(errs) == 0 && len(rows) == 0 {
		errs = append(errs, ODSRowError{Line: 1, Message: "the file has a header but no practices"})
	}
	slices.SortStableFunc(errs, func(a, b ODSRowError) int { return a.Line - b.Line })
	return rows, errs
}

func practiceCode(s string) bool {
	if len(s) != 6 || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for _, c := range s[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func shorten(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

func csvReason(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// ListSizeReport says what a list-size import did. Each practice of the
// file is counted once: unknown to the tracker, or new, changed or
// unchanged against the size the tracker held in force at the extract date.
type ListSizeReport struct {
	ImportID    int64
	ExtractDate time.Time
	Rows        int
	New         int          // the practice had no size on or before the date
	Changed     []SizeChange // a different size (capped at reportListLimit)
	ChangedN    int
	Unchanged   int      // the same size (a second import of a file: all of them)
	Unknown     []string // practice codes the tracker does not have (capped)
	UnknownN    int
	Written     int // extract rows inserted or corrected
}

// SizeChange is one practice whose size in force the extract changed.
type SizeChange struct {
	Code          string
	Before, After int
}

// reportListLimit caps the lists a report keeps: the counts are whole.
const reportListLimit = 200

// Summary is the report in words, for the command line.
func (r ListSizeReport) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "List sizes of %s: %s rows read\n", r.ExtractDate.Format("2 January 2006"), thousands(r.Rows))
	fmt.Fprintf(&b, "  new:                %s\n", thousands(r.New))
	fmt.Fprintf(&b, "  changed:            %s\n", thousands(r.ChangedN))
	fmt.Fprintf(&b, "  unchanged:          %s\n", thousands(r.Unchanged))
	fmt.Fprintf(&b, "  unknown practices:  %s\n", thousands(r.UnknownN))
	if len(r.Unknown) > 0 {
		more := ""
		if r.UnknownN > len(r.Unknown) {
			more = fmt.Sprintf(" and %s more", thousands(r.UnknownN-len(r.Unknown)))
		}
		fmt.Fprintf(&b, "    %s%s\n", strings.Join(r.Unknown, ", "), more)
	}
	return b.String()
}

// listSizeLock serialises list-size imports: each compares the file with
// the extracts as they are.
const listSizeLock = 7_700_000_013

// ImportListSizes imports a list-size file in one transaction: all or
// nothing on a malformed file (a *ListSizeFileError naming each bad row);
// practices the tracker does not know are counted and listed, not fatal;
// every extract is kept, and a row equal to the stored one writes nothing,
// so importing the same file twice changes nothing. The import is recorded
// in the history of imports (as fileName, run by a) and the audit log.
func (s *Store) ImportListSizes(ctx context.Context, a Actor, fileName string, r io.Reader) (ListSizeReport, error) {
	now := s.now()
	rows, errs := ParseListSizes(r)
	if len(errs) > 0 {
		return ListSizeReport{}, &ListSizeFileError{Errors: errs}
	}
	var rep ListSizeReport
	err := postgres.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		rep, err = applyListSizes(ctx, tx, now, a, fileName, rows)
		return err
	})
	if err != nil {
		return ListSizeReport{}, fmt.Errorf("import list sizes: %w", err)
	}
	return rep, nil
}

func applyListSizes(ctx context.Context, tx pgx.Tx, now time.Time, a Actor, fileName string, rows []ListSizeRow) (ListSizeReport, error) {
	rep := ListSizeReport{Rows: len(rows), ExtractDate: rows[0].Date}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, listSizeLock); err != nil {
		return rep, err
	}
	// The file goes in with one COPY; everything after is set-based.
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE list_size_file (line int, code text, size int) ON COMMIT DROP`); err != nil {
		return rep, fmt.Errorf("staging table: %w", err)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"list_size_file"}, []string{"line", "code", "size"},
		pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
			return []any{rows[i].Line, rows[i].Code, rows[i].Patients}, nil
		})); err != nil {
		return rep, fmt.Errorf("stage the file: %w", err)
	}
	// Each row against the size the tracker had in force at the date:
	// unknown practice, new, changed or unchanged; and whether the extract
	// row itself must be written (absent, or a corrected size).
	cls, err := tx.Query(ctx, `
		SELECT f.code, p.code IS NOT NULL, f.size, prev.size, cur.size
		FROM list_size_file f
		LEFT JOIN practices p ON p.code = f.code
		LEFT JOIN practice_list_sizes cur ON cur.practice_code = f.code AND cur.extract_date = $1
		LEFT JOIN LATERAL (
			SELECT size FROM practice_list_sizes s
			WHERE s.practice_code = f.code AND s.extract_date <= $1
			ORDER BY s.extract_date DESC LIMIT 1) prev ON true
		ORDER BY f.line`, rep.ExtractDate)
	if err != nil {
		return rep, fmt.Errorf("compare the file: %w", err)
	}
	var code string
	var known bool
	var size int
	var prev, cur *int
	if _, err := pgx.ForEachRow(cls, []any{&code, &known, &size, &prev, &cur}, func() error {
		switch {
		case !known:
			rep.UnknownN++
			if len(rep.Unknown) < reportListLimit {
				rep.Unknown = append(rep.Unknown, code)
			}
			return nil
		case prev == nil:
			rep.New++
		case *prev != size:
			rep.ChangedN++
			if len(rep.Changed) < reportListLimit {
				rep.Changed = append(rep.Changed, SizeChange{Code: code, Before: *prev, After: size})
			}
		default:
			rep.Unchanged++
		}
		if cur == nil || *cur != size {
			rep.Written++
		}
		return nil
	}); err != nil {
		return rep, fmt.Errorf("compare the file: %w", err)
	}
	// Every import is in the history, even one that writes nothing (the
	// same file again): the admin sees it ran, and found nothing new.
	var importID int64
	if err := tx.QueryRow(ctx, `
		INSERT INTO imports (kind, file_name, imported_at, imported_by, counts, report)
		VALUES ('list_sizes', $1, $2, $3, $4, $5) RETURNING id`,
		fileName, now, a.ID, rep.counts(), map[string]any{"extract_date": rep.ExtractDate.Format(time.DateOnly),
			"changed": rep.Changed, "unknown": rep.Unknown}).Scan(&importID); err != nil {
		return rep, fmt.Errorf("record the import: %w", err)
	}
	rep.ImportID = importID
	if err := audit.Record(ctx, tx, audit.Event{
		At:         now,
		By:         a.ID,
		Action:     "list_sizes.import",
		EntityType: "import",
		EntityID:   strconv.FormatInt(importID, 10),
		After:      map[string]any{"file": fileName, "extract_date": rep.ExtractDate.Format(time.DateOnly), "counts": rep.counts()},
	}); err != nil {
		return rep, err
	}
	if rep.Written == 0 {
		return rep, nil // no extract or practice row is touched: billing's version stays
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO practice_list_sizes (practice_code, extract_date, size, created_at, import_id)
		SELECT f.code, $1, f.size, $2, $3 FROM list_size_file f JOIN practices p ON p.code = f.code
		ON CONFLICT (practice_code, extract_date) DO UPDATE
		SET size = EXCLUDED.size, created_at = EXCLUDED.created_at, import_id = EXCLUDED.import_id
		WHERE practice_list_sizes.size <> EXCLUDED.size`, rep.ExtractDate, now, importID); err != nil {
		return rep, fmt.Errorf("write the extract: %w", err)
	}
	// The practice's own size is its latest extract (orders default a
	// per-patient quantity to it).
	if _, err := tx.Exec(ctx, `
		UPDATE practices p SET list_size = f.size, list_size_date = $1, updated_at = $2
		FROM list_size_file f
		WHERE p.code = f.code AND (p.list_size_date IS NULL OR p.list_size_date <= $1)
		  AND (p.list_size IS DISTINCT FROM f.size OR p.list_size_date IS DISTINCT FROM $1)`, rep.ExtractDate, now); err != nil {
		return rep, fmt.Errorf("update practices: %w", err)
	}
	return rep, nil
}

func (r ListSizeReport) counts() map[string]int {
	return map[string]int{"rows": r.Rows, "new": r.New, "changed": r.ChangedN, "unchanged": r.Unchanged, "unknown": r.UnknownN, "written": r.Written}
}

// ListSize is one extract of a practice's list size.
type ListSize struct {
	Date time.Time
	Size int
}

// ListSizeHistoryLimit bounds the practice page's history: five years of
// monthly extracts.
const ListSizeHistoryLimit = 60

// ListSizeHistory returns a practice's extracts, newest first (at most
// ListSizeHistoryLimit). The caller has checked the practice is in scope.
func ListSizeHistory(ctx context.Context, db postgres.Querier, code string) ([]ListSize, error) {
	rows, err := db.Query(ctx, `SELECT extract_date, size FROM practice_list_sizes WHERE practice_code = $1
		ORDER BY extract_date DESC LIMIT $2`, code, ListSizeHistoryLimit)
	if err != nil {
		return nil, fmt.Errorf("list sizes of %s: %w", code, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ListSize, error) {
		var s ListSize
		return s, row.Scan(&s.Date, &s.Size)
	})
	if err != nil {
		return nil, fmt.Errorf("list sizes of %s: %w", code, err)
	}
	return out, nil
}
