package org

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/audit"
	"ccgtracker/internal/postgres"
)

// ODSSkipReason says why a row of an ODS file added no practice.
type ODSSkipReason string

// The reasons a row for a code the tracker does not have is left out.
const (
	// ODSSkipNotPractice is a row for an organisation that is not a GP
	// practice (a walk-in centre, a prison, a hospital ...): the tracker
	// only keeps service recipients.
	ODSSkipNotPractice ODSSkipReason = "not a GP practice"
	// ODSSkipCommissioner is a new practice whose commissioner is not an
	// active CCG in the tracker: every practice must belong to one.
	ODSSkipCommissioner ODSSkipReason = "commissioner is not an active CCG in the tracker"
)

// odsSkipOrder is the order the Summary lists skip reasons in.
var odsSkipOrder = []ODSSkipReason{ODSSkipNotPractice, ODSSkipCommissioner}

// The practice fields an ODS import may change, named as their columns so
// that the audit log and the report use the same words.
const (
	odsFieldName      = "name"
	odsFieldPostcode  = "postcode"
	odsFieldCCG       = "ccg_code"
	odsFieldOpenDate  = "open_date"
	odsFieldCloseDate = "close_date"
	odsFieldStatus    = "status"
)

// ODSReport says what an ODS import changed. Every row read is counted in
// exactly one of Inserted, Updated, Unchanged and Skipped.
type ODSReport struct {
	RowsRead  int
	Inserted  []ODSInsert // new practices, in file order
	Updated   []ODSUpdate // practices the file changed, in file order
	Unchanged int         // practices the file matches already
	Skipped   map[ODSSkipReason]int
	// Warnings are rows whose commissioner differs from the practice's CCG
	// but could not be applied: the practice kept its CCG.
	Warnings []ODSWarning
}

// ODSInsert is a practice the import added.
type ODSInsert struct {
	Line    int
	Code    string
	Name    string
	CCGCode string
	Status  string
}

// ODSUpdate is a practice the import changed, field by field.
type ODSUpdate struct {
	Line    int
	Code    string
	Changes []ODSFieldChange
}

// ODSFieldChange is one field of a practice before and after the import.
// Dates are YYYY-MM-DD; an empty string is no value.
type ODSFieldChange struct {
	Field  string // name, postcode, ccg_code, open_date, close_date or status
	Before string
	After  string
}

// ODSWarning is a row for an existing practice whose commissioner could not
// be applied, so the practice stays in its CCG.
type ODSWarning struct {
	Line         int
	Code         string // the practice
	Commissioner string // as in the file; empty when the row has none
	Reason       string // why the commissioner was not applied, in words
	KeptCCG      string // the CCG the practice stays in
}

// String is the warning in words.
func (w ODSWarning) String() string {
	return fmt.Sprintf("line %d, practice %s: %s; it stays in CCG %s", w.Line, w.Code, w.Reason, w.KeptCCG)
}

// SkippedTotal is the number of rows skipped for any reason.
func (r ODSReport) SkippedTotal() int {
	n := 0
	for _, c := range r.Skipped {
		n += c
	}
	return n
}

// summaryListLimit keeps the command-line report readable on a full national
// file; the audit log holds every change.
const summaryListLimit = 100

// Summary is the report in words, for the command line.
func (r ODSReport) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ODS import: %s rows read\n", thousands(r.RowsRead))
	fmt.Fprintf(&b, "  practices inserted:  %s\n", thousands(len(r.Inserted)))
	fmt.Fprintf(&b, "  practices updated:   %s\n", thousands(len(r.Updated)))
	fmt.Fprintf(&b, "  practices unchanged: %s\n", thousands(r.Unchanged))
	fmt.Fprintf(&b, "  rows skipped:        %s\n", thousands(r.SkippedTotal()))
	for _, reason := range odsSkipOrder {
		if n := r.Skipped[reason]; n > 0 {
			fmt.Fprintf(&b, "    %s: %s\n", reason, thousands(n))
		}
	}
	fmt.Fprintf(&b, "  warnings:            %s\n", thousands(len(r.Warnings)))

	if len(r.Inserted) > 0 {
		fmt.Fprintf(&b, "\nInserted:\n")
		for i, p := range r.Inserted {
			if i == summaryListLimit {
				fmt.Fprintf(&b, "  ... and %s more\n", thousands(len(r.Inserted)-i))
				break
			}
			fmt.Fprintf(&b, "  %s %s, CCG %s, status %s\n", p.Code, p.Name, p.CCGCode, p.Status)
		}
	}
	if len(r.Updated) > 0 {
		fmt.Fprintf(&b, "\nUpdated:\n")
		for i, u := range r.Updated {
			if i == summaryListLimit {
				fmt.Fprintf(&b, "  ... and %s more\n", thousands(len(r.Updated)-i))
				break
			}
			parts := make([]string, len(u.Changes))
			for j, c := range u.Changes {
				parts[j] = fmt.Sprintf("%s %s -> %s", c.Field, shown(c.Before), shown(c.After))
			}
			fmt.Fprintf(&b, "  %s: %s\n", u.Code, strings.Join(parts, "; "))
		}
	}
	if len(r.Warnings) > 0 {
		// A national file can warn about thousands of practices for a few
		// dozen retired commissioners: one line per commissioner says it all.
		fmt.Fprintf(&b, "\nWarnings (the practices stay in their CCG):\n")
		groups := map[string][]string{}
		var reasons []string
		for _, w := range r.Warnings {
			if _, ok := groups[w.Reason]; !ok {
				reasons = append(reasons, w.Reason)
			}
			groups[w.Reason] = append(groups[w.Reason], w.Code)
		}
		slices.Sort(reasons)
		for _, reason := range reasons {
			codes := groups[reason]
			list := codes
			more := ""
			if len(list) > 5 {
				list, more = list[:5], fmt.Sprintf(" and %s more", thousands(len(codes)-5))
			}
			fmt.Fprintf(&b, "  %s: %s (%s%s)\n", reason, plural(len(codes), "practice"), strings.Join(list, ", "), more)
		}
	}
	return b.String()
}

func shown(v string) string {
	if v == "" {
		return "(none)"
	}
	return strconv.Quote(v)
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return thousands(n) + " " + noun + "s"
}

// thousands writes n as 14,303, as people read counts.
func thousands(n int) string {
	s := strconv.Itoa(n)
	sign := 0
	if n < 0 {
		sign = 1
	}
	for i := len(s) - 3; i > sign; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// ODSFileError is an ODS file with bad rows, of which none was applied. It
// is an Invalid error: the person who chose the file can mend it.
type ODSFileError struct {
	Errors []ODSRowError // in line order
}

// odsErrorListLimit caps the listing: a wrong file (say, a different ODS
// extract) makes every row bad, and the first rows show what is wrong.
const odsErrorListLimit = 50

// Error lists the bad rows, one a line.
func (e *ODSFileError) Error() string { return rowErrorsText("ODS", e.Errors) }

// rowErrorsText lists a refused file's bad rows (the first 50), for an
// ODS or a list-size file.
func rowErrorsText(file string, errs []ODSRowError) string {
	var b strings.Builder
	fmt.Fprintf(&b, "The %s file has %s, so nothing was imported:", file, plural(len(errs), "error"))
	for i, re := range errs {
		if i == odsErrorListLimit {
			fmt.Fprintf(&b, "\n  and %s", plural(len(errs)-i, "more error"))
			break
		}
		b.WriteString("\n  ")
		b.WriteString(re.Error())
	}
	return b.String()
}

// Unwrap classifies the error as Invalid, with the listing as the message a
// person sees.
func (e *ODSFileError) Unwrap() error {
	return &apperr.Error{Code: apperr.Invalid, Message: e.Error()}
}

// ODSFollowUp is work that must commit with an ODS import, on what it
// changed: the tracker's proposals to the CCGs (internal/tracker), which
// this package cannot import. It returns counts of what it did, which the
// import adds to its history (org is the one writer of imports).
type ODSFollowUp func(ctx context.Context, tx pgx.Tx, importID int64, report ODSReport) (map[string]int, error)

// ImportODS updates practices from an ODS practice file (epraccur). A file
// with any bad row changes nothing and returns an *ODSFileError. Otherwise,
// in one transaction, existing practices take the file's name, postcode,
// dates, status and (when it is an active CCG in the tracker) commissioner;
// new GP practices of active CCGs are added; each change is audited. The
// import is recorded in the history of imports (as fileName, run by a,
// with the counts) and then, when not nil, runs in the same transaction;
// ImportODS returns the report and the import's id.
func (s *Store) ImportODS(ctx context.Context, a Actor, fileName string, r io.Reader, then ODSFollowUp) (ODSReport, int64, error) {
	now := s.now()
	recs, err := readODS(r)
	if err != nil {
		return ODSReport{}, 0, err
	}
	var report ODSReport
	var importID int64
	err = postgres.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		if report, err = applyODS(ctx, tx, now, recs); err != nil {
			return err
		}
		counts := map[string]int{"rows": report.RowsRead, "inserted": len(report.Inserted), "updated": len(report.Updated),
			"unchanged": report.Unchanged, "skipped": report.SkippedTotal(), "warnings": len(report.Warnings)}
		updated := report.Updated
		if len(updated) > reportListLimit {
			updated = updated[:reportListLimit]
		}
		inserted := report.Inserted
		if len(inserted) > reportListLimit {
			inserted = inserted[:reportListLimit]
		}
		if err := tx.QueryRow(ctx, `
			INSERT INTO imports (kind, file_name, imported_at, imported_by, counts, report)
			VALUES ('ods', $1, $2, $3, $4, $5) RETURNING id`, fileName, now, a.ID, counts,
			map[string]any{"inserted": inserted, "updated": updated}).Scan(&importID); err != nil {
			return fmt.Errorf("record the import: %w", err)
		}
		if then == nil {
			return nil
		}
		more, err := then(ctx, tx, importID, report)
		if err != nil || len(more) == 0 {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE imports SET counts = counts || $2 WHERE id = $1`, importID, more); err != nil {
			return fmt.Errorf("record the follow-up's counts: %w", err)
		}
		return nil
	})
	if err != nil {
		return ODSReport{}, 0, fmt.Errorf("import ODS file: %w", err)
	}
	return report, importID, nil
}

// readODS is the part of ImportODS that needs no database: the file's
// records, or an *ODSFileError with every bad row, or an Invalid error for
// a file with no rows.
func readODS(r io.Reader) ([]ODSRecord, error) {
	recs, errs := ParseODS(withoutBOM(r))
	errs = append(errs, checkODSRecords(recs)...)
	if len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b ODSRowError) int { return a.Line - b.Line })
		return nil, &ODSFileError{Errors: errs}
	}
	if len(recs) == 0 {
		return nil, apperr.New(apperr.Invalid, "The ODS file is empty: it has no rows to import.")
	}
	return recs, nil
}

// withoutBOM drops a UTF-8 byte order mark, which a file saved from Excel
// starts with and which would otherwise make the first row bad CSV.
func withoutBOM(r io.Reader) io.Reader {
	br := bufio.NewReader(r)
	if head, err := br.Peek(3); err == nil && bytes.Equal(head, []byte("\xef\xbb\xbf")) {
		_, _ = br.Discard(3)
	}
	return br
}

// checkODSRecords finds what ParseODS cannot see row by row: a code given
// twice (which row wins would be a guess), and text PostgreSQL cannot store.
func checkODSRecords(recs []ODSRecord) []ODSRowError {
	var errs []ODSRowError
	firstLine := make(map[string]int, len(recs))
	for _, rec := range recs {
		if line, ok := firstLine[rec.Code]; ok {
			errs = append(errs, ODSRowError{Line: rec.Line, Column: "column 1 (organisation code)",
				Message: fmt.Sprintf("%s is also on line %d; each organisation may appear only once", rec.Code, line)})
		} else {
			firstLine[rec.Code] = rec.Line
		}
		if strings.ContainsRune(rec.Name, 0) {
			errs = append(errs, ODSRowError{Line: rec.Line, Column: "column 2 (name)", Message: "contains a NUL character"})
		}
		if strings.ContainsRune(rec.Postcode, 0) {
			errs = append(errs, ODSRowError{Line: rec.Line, Column: "column 10 (postcode)", Message: "contains a NUL character"})
		}
	}
	return errs
}

// odsPractice is the part of a practice an ODS file speaks for, with dates
// as YYYY-MM-DD ("" for none) so that comparing and reporting are simple.
type odsPractice struct {
	name, postcode, ccg, openDate, closeDate, status string
}

func (p odsPractice) fields() [6][2]string {
	return [6][2]string{
		{odsFieldName, p.name},
		{odsFieldPostcode, p.postcode},
		{odsFieldCCG, p.ccg},
		{odsFieldOpenDate, p.openDate},
		{odsFieldCloseDate, p.closeDate},
		{odsFieldStatus, p.status},
	}
}

func (p odsPractice) changesTo(q odsPractice) []ODSFieldChange {
	var out []ODSFieldChange
	before, after := p.fields(), q.fields()
	for i := range before {
		if before[i][1] != after[i][1] {
			out = append(out, ODSFieldChange{Field: before[i][0], Before: before[i][1], After: after[i][1]})
		}
	}
	return out
}

// allFields is a new practice as changes from nothing, so that its audit
// entry holds every field, empty ones included.
func allFields(p odsPractice) []ODSFieldChange {
	var out []ODSFieldChange
	for _, f := range p.fields() {
		out = append(out, ODSFieldChange{Field: f[0], After: f[1]})
	}
	return out
}

// auditValues is what the audit log keeps of some fields: JSON null for a
// missing date, so that "no close date" does not read as a date.
func auditValues(changes []ODSFieldChange, after bool) map[string]any {
	m := make(map[string]any, len(changes))
	for _, c := range changes {
		v := c.Before
		if after {
			v = c.After
		}
		if v == "" && (c.Field == odsFieldOpenDate || c.Field == odsFieldCloseDate) {
			m[c.Field] = nil
		} else {
			m[c.Field] = v
		}
	}
	return m
}

func dateText(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format(time.DateOnly)
}

// dateArg turns a date made by dateText back into a query argument.
func dateArg(s string) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	return &t, err
}

// utf8Text reads text that is not UTF-8 as Latin-1, the encoding ODS files
// have been published in, because PostgreSQL refuses invalid UTF-8.
func utf8Text(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	r := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		r[i] = rune(s[i])
	}
	return string(r)
}

// commissionerProblem says why a row's commissioner cannot be a practice's
// CCG, or "" when it can.
func commissionerProblem(code string, ccgActive map[string]bool) string {
	active, known := ccgActive[code]
	switch {
	case code == "":
		return "the row has no commissioner"
	case !known:
		return fmt.Sprintf("commissioner %s is not a CCG in the tracker", code)
	case !active:
		return fmt.Sprintf("commissioner %s is an inactive CCG in the tracker", code)
	}
	return ""
}

// practiceWrites collects the rows to write, one slice per column, for
// unnest: the whole import is then a handful of statements.
type practiceWrites struct {
	codes, names, postcodes, ccgs, statuses []string
	openDates, closeDates                   []*time.Time
}

func (w *practiceWrites) add(code string, p odsPractice) error {
	open, err := dateArg(p.openDate)
	if err != nil {
		return err
	}
	closed, err := dateArg(p.closeDate)
	if err != nil {
		return err
	}
	w.codes = append(w.codes, code)
	w.names = append(w.names, p.name)
	w.postcodes = append(w.postcodes, p.postcode)
	w.ccgs = append(w.ccgs, p.ccg)
	w.statuses = append(w.statuses, p.status)
	w.openDates = append(w.openDates, open)
	w.closeDates = append(w.closeDates, closed)
	return nil
}

type odsAuditEntry struct {
	action, code  string
	before, after any
}

func applyODS(ctx context.Context, tx pgx.Tx, now time.Time, recs []ODSRecord) (ODSReport, error) {
	report := ODSReport{RowsRead: len(recs), Skipped: map[ODSSkipReason]int{}}

	// The diff below is only true while nobody else writes practices, and two
	// imports at once would each audit the other's changes as their own.
	if _, err := tx.Exec(ctx, `LOCK TABLE practices IN SHARE ROW EXCLUSIVE MODE`); err != nil {
		return report, fmt.Errorf("lock practices: %w", err)
	}
	ccgActive := map[string]bool{}
	rows, err := tx.Query(ctx, `SELECT code, active FROM ccgs`)
	if err != nil {
		return report, fmt.Errorf("read CCGs: %w", err)
	}
	var code string
	var active bool
	if _, err := pgx.ForEachRow(rows, []any{&code, &active}, func() error {
		ccgActive[code] = active
		return nil
	}); err != nil {
		return report, fmt.Errorf("read CCGs: %w", err)
	}

	existing := map[string]odsPractice{}
	rows, err = tx.Query(ctx, `SELECT code, name, postcode, ccg_code, open_date, close_date, status FROM practices`)
	if err != nil {
		return report, fmt.Errorf("read practices: %w", err)
	}
	var p odsPractice
	var open, closed *time.Time
	if _, err := pgx.ForEachRow(rows, []any{&code, &p.name, &p.postcode, &p.ccg, &open, &closed, &p.status}, func() error {
		p.openDate, p.closeDate = dateText(open), dateText(closed)
		existing[code] = p
		return nil
	}); err != nil {
		return report, fmt.Errorf("read practices: %w", err)
	}

	var inserts, updates practiceWrites
	var entries []odsAuditEntry
	for _, rec := range recs {
		want := odsPractice{
			name:      utf8Text(rec.Name),
			postcode:  utf8Text(rec.Postcode),
			ccg:       rec.Commissioner,
			openDate:  dateText(rec.OpenDate),
			closeDate: dateText(rec.CloseDate),
			status:    rec.Status,
		}
		problem := commissionerProblem(rec.Commissioner, ccgActive)

		if cur, ok := existing[rec.Code]; ok {
			if problem != "" {
				// A commissioner the tracker does not know (a merged CCG, in
				// an old file) must not move the practice out of its CCG.
				if rec.Commissioner != cur.ccg {
					report.Warnings = append(report.Warnings, ODSWarning{
						Line: rec.Line, Code: rec.Code, Commissioner: rec.Commissioner, Reason: problem, KeptCCG: cur.ccg})
				}
				want.ccg = cur.ccg
			}
			changes := cur.changesTo(want)
			if len(changes) == 0 {
				report.Unchanged++
				continue
			}
			if err := updates.add(rec.Code, want); err != nil {
				return report, fmt.Errorf("line %d: %w", rec.Line, err)
			}
			report.Updated = append(report.Updated, ODSUpdate{Line: rec.Line, Code: rec.Code, Changes: changes})
			entries = append(entries, odsAuditEntry{"practice.ods_update", rec.Code, auditValues(changes, false), auditValues(changes, true)})
			continue
		}

		switch {
		case !rec.IsPractice():
			report.Skipped[ODSSkipNotPractice]++
			continue
		case problem != "":
			report.Skipped[ODSSkipCommissioner]++
			continue
		}
		if err := inserts.add(rec.Code, want); err != nil {
			return report, fmt.Errorf("line %d: %w", rec.Line, err)
		}
		report.Inserted = append(report.Inserted, ODSInsert{Line: rec.Line, Code: rec.Code, Name: want.name, CCGCode: want.ccg, Status: want.status})
		entries = append(entries, odsAuditEntry{"practice.ods_insert", rec.Code, nil, auditValues(allFields(want), true)})
	}

	batch := &pgx.Batch{}
	expect := func(what string, n int) func(pgconn.CommandTag) error {
		return func(tag pgconn.CommandTag) error {
			if tag.RowsAffected() != int64(n) {
				return fmt.Errorf("%s: %d rows written, %d expected", what, tag.RowsAffected(), n)
			}
			return nil
		}
	}
	if n := len(inserts.codes); n > 0 {
		batch.Queue(`
			INSERT INTO practices (code, name, postcode, ccg_code, open_date, close_date, status, updated_at)
			SELECT code, name, postcode, ccg, open_date, close_date, status, $8
			FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::date[], $6::date[], $7::text[])
			     AS t(code, name, postcode, ccg, open_date, close_date, status)`,
			inserts.codes, inserts.names, inserts.postcodes, inserts.ccgs, inserts.openDates, inserts.closeDates, inserts.statuses, now,
		).Exec(expect("insert practices", n))
	}
	if n := len(updates.codes); n > 0 {
		batch.Queue(`
			UPDATE practices p
			SET name = u.name, postcode = u.postcode, ccg_code = u.ccg, open_date = u.open_date,
			    close_date = u.close_date, status = u.status, updated_at = $8
			FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::date[], $6::date[], $7::text[])
			     AS u(code, name, postcode, ccg, open_date, close_date, status)
			WHERE p.code = u.code`,
			updates.codes, updates.names, updates.postcodes, updates.ccgs, updates.openDates, updates.closeDates, updates.statuses, now,
		).Exec(expect("update practices", n))
	}
	for _, e := range entries {
		if err := audit.Queue(batch, audit.Event{
			At:         now,
			By:         nil,
			Action:     e.action,
			EntityType: "practice",
			EntityID:   e.code,
			Before:     e.before,
			After:      e.after,
		}); err != nil {
			return report, err
		}
	}
	if batch.Len() > 0 {
		if err := tx.SendBatch(ctx, batch).Close(); err != nil {
			return report, fmt.Errorf("write practices: %w", err)
		}
	}
	return report, nil
}
