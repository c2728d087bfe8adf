package ledger

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/audit"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/org"
	"ccgtracker/internal/postgres"
)

// The continuity import: a file of the services practices already had,
// checked whole and written as agreements and their services, and the
// demo data built the same way.

// ContinuityReport says what a continuity import did. Every row is either
// added or already present.
type ContinuityReport struct {
	Rows              int
	AgreementsCreated int
	ServicesAdded     int
	AlreadyPresent    int // rows whose service the agreement already had
}

// Summary is the report in words, for the command line.
func (r ContinuityReport) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Continuity import: %d rows read\n", r.Rows)
	fmt.Fprintf(&b, "  agreements created:     %d\n", r.AgreementsCreated)
	fmt.Fprintf(&b, "  services added:         %d\n", r.ServicesAdded)
	fmt.Fprintf(&b, "  rows already present:   %d\n", r.AlreadyPresent)
	if r.ServicesAdded == 0 && r.Rows > 0 {
		b.WriteString("Every service in the file is already in its agreement: nothing was added.\n")
	}
	return b.String()
}

// ContinuityRowError is what is wrong with one row of a continuity file.
type ContinuityRowError struct {
	Line    int    // in the file, the header being line 1
	Column  string // practice, supplier, item or start_date; "" for the whole row
	Message string
}

func (e ContinuityRowError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Message)
	}
	return fmt.Sprintf("line %d, %s: %s", e.Line, e.Column, e.Message)
}

// ContinuityFileError is a continuity file with bad rows, of which none was
// applied. It is Invalid: the person who made the file can mend it.
type ContinuityFileError struct {
	Errors []ContinuityRowError // in line order
}

// continuityErrorListLimit keeps the listing readable when a wrong file
// makes every row bad: the first rows show what is wrong.
const continuityErrorListLimit = 50

// Error lists the bad rows, one a line.
func (e *ContinuityFileError) Error() string {
	var b strings.Builder
	n := len(e.Errors)
	noun := "errors"
	if n == 1 {
		noun = "error"
	}
	fmt.Fprintf(&b, "The continuity file has %d %s, so nothing was imported:", n, noun)
	for i, re := range e.Errors {
		if i == continuityErrorListLimit {
			fmt.Fprintf(&b, "\n  and %d more", n-i)
			break
		}
		b.WriteString("\n  ")
		b.WriteString(re.Error())
	}
	return b.String()
}

// Unwrap classifies the error as Invalid, with the listing as its message.
func (e *ContinuityFileError) Unwrap() error {
	return &apperr.Error{Code: apperr.Invalid, Message: e.Error()}
}

// The columns of a continuity file, as its header names them.
const (
	colPractice  = "practice"
	colSupplier  = "supplier"
	colItem      = "item"
	colStartDate = "start_date"
)

var continuityColumns = []string{colPractice, colSupplier, colItem, colStartDate}

var practiceCodePattern = regexp.MustCompile(`^[A-Z][0-9]{5}$`)

// continuityRow is one row of a continuity file, trimmed; start is zero
// when the row's date is not a date.
type continuityRow struct {
	line                     int
	practice, supplier, item string
	start                    time.Time
}

// continuityService is one practice × item to continue under the agreement
// of the practice's CCG with the item's supplier; start is the agreement's
// start date should it have to be created.
type continuityService struct {
	practice, item string
	start          time.Time
}

// parseContinuity reads the file's rows. A file that is not a continuity
// file at all (no header, wrong columns) is an Invalid error; problems of
// single rows are returned per row.
func parseContinuity(r io.Reader) ([]continuityRow, []ContinuityRowError, error) {
	br := bufio.NewReader(r)
	// A file saved from Excel starts with a byte order mark, which would
	// otherwise become part of the first column's name.
	if head, err := br.Peek(3); err == nil && bytes.Equal(head, []byte("\xef\xbb\xbf")) {
		_, _ = br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1 // checked per row, to report the row
	cr.TrimLeadingSpace = true

	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, apperr.New(apperr.Invalid, "The continuity file is empty. Its first line must be the header %s.", strings.Join(continuityColumns, ","))
	}
	if err != nil {
		return nil, nil, apperr.New(apperr.Invalid, "The continuity file's header is not valid CSV: %v.", err)
	}
	pos := map[string]int{}
	for i, h := range header {
		pos[strings.ToLower(strings.TrimSpace(h))] = i
	}
	for _, c := range continuityColumns {
		if _, ok := pos[c]; !ok || len(header) != len(continuityColumns) {
			return nil, nil, apperr.New(apperr.Invalid,
				"The continuity file's first line must be the header %s, but it is %q.", strings.Join(continuityColumns, ","), strings.Join(header, ","))
		}
	}

	var rows []continuityRow
	var errs []ContinuityRowError
	for {
		fields, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var perr *csv.ParseError
			line := 0
			if errors.As(err, &perr) {
				line = perr.StartLine
			}
			errs = append(errs, ContinuityRowError{Line: line, Message: "the row is not valid CSV: " + err.Error()})
			if perr == nil || len(errs) >= 1000 {
				break // not a row problem, or a file that is not CSV
			}
			continue
		}
		line, _ := cr.FieldPos(0)
		if len(fields) != len(continuityColumns) {
			errs = append(errs, ContinuityRowError{Line: line, Message: fmt.Sprintf(
				"the row has %d values; each row needs %d: %s", len(fields), len(continuityColumns), strings.Join(continuityColumns, ", "))})
			continue
		}
		row := continuityRow{
			line:     line,
			practice: strings.ToUpper(strings.TrimSpace(fields[pos[colPractice]])),
			supplier: strings.TrimSpace(fields[pos[colSupplier]]),
			item:     strings.ToUpper(strings.TrimSpace(fields[pos[colItem]])),
		}
		date := strings.TrimSpace(fields[pos[colStartDate]])
		switch t, err := time.Parse(time.DateOnly, date); {
		case date == "":
			errs = append(errs, ContinuityRowError{Line: line, Column: colStartDate, Message: "is empty; enter the agreement's start date as YYYY-MM-DD, such as 2020-01-01"})
		case err != nil:
			errs = append(errs, ContinuityRowError{Line: line, Column: colStartDate, Message: fmt.Sprintf("%q is not a date; write it as YYYY-MM-DD, such as 2020-01-01", date)})
		default:
			row.start = t
		}
		rows = append(rows, row)
	}
	return rows, errs, nil
}

// checkContinuity finds every problem of the rows against the tracker's
// practices, suppliers, catalogue and agreements.
func checkContinuity(ctx context.Context, db postgres.Querier, rows []continuityRow) ([]ContinuityRowError, error) {
	codes := make([]string, 0, len(rows))
	for _, r := range rows {
		codes = append(codes, r.practice)
	}
	practices, err := readPractices(ctx, db, codes)
	if err != nil {
		return nil, err
	}
	suppliers := map[string]string{}
	srows, err := db.Query(ctx, `SELECT id, name FROM suppliers`)
	if err != nil {
		return nil, fmt.Errorf("read suppliers: %w", err)
	}
	var sid, sname string
	if _, err := pgx.ForEachRow(srows, []any{&sid, &sname}, func() error {
		suppliers[sid] = sname
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read suppliers: %w", err)
	}
	irows, err := db.Query(ctx, itemPriceSelect)
	if err != nil {
		return nil, fmt.Errorf("read catalogue: %w", err)
	}
	itemList, err := pgx.CollectRows(irows, scanItemPrice)
	if err != nil {
		return nil, fmt.Errorf("read catalogue: %w", err)
	}
	items := map[string]itemPrice{}
	for _, it := range itemList {
		items[it.id] = it
	}
	type ccgSupplier struct{ ccg, supplier string }
	agreementStart := map[ccgSupplier]time.Time{}
	arows, err := db.Query(ctx, `SELECT ccg_code, supplier_id, start_date FROM continuity_agreements`)
	if err != nil {
		return nil, fmt.Errorf("read agreements: %w", err)
	}
	var key ccgSupplier
	var start time.Time
	if _, err := pgx.ForEachRow(arows, []any{&key.ccg, &key.supplier, &start}, func() error {
		agreementStart[key] = start
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read agreements: %w", err)
	}

	var errs []ContinuityRowError
	add := func(line int, col, format string, args ...any) {
		errs = append(errs, ContinuityRowError{Line: line, Column: col, Message: fmt.Sprintf(format, args...)})
	}
	type practiceItem struct{ practice, item string }
	firstLine := map[practiceItem]int{}
	// The first row of an agreement the file creates sets its start date.
	newStart := map[ccgSupplier]int{}
	rowsByLine := map[int]continuityRow{}
	for _, r := range rows {
		rowsByLine[r.line] = r
		p, practiceOK := practices[r.practice]
		switch {
		case r.practice == "":
			add(r.line, colPractice, "is empty; enter the practice's ODS code, such as A81001")
		case !practiceCodePattern.MatchString(r.practice):
			add(r.line, colPractice, "%q is not a practice ODS code, which is a letter and 5 digits, such as A81001", r.practice)
		case !practiceOK:
			add(r.line, colPractice, "unknown practice: no practice in the tracker has the ODS code %s", r.practice)
		}
		supplierName, supplierOK := suppliers[r.supplier]
		switch {
		case r.supplier == "":
			add(r.line, colSupplier, "is empty; enter the supplier's 5-digit id, such as 10000")
		case !supplierOK:
			add(r.line, colSupplier, "unknown supplier: no supplier has the id %s", r.supplier)
		}
		it, itemOK := items[r.item]
		switch {
		case r.item == "":
			add(r.line, colItem, "is empty; enter the catalogue item's id, such as 10000-001")
		case !itemOK:
			add(r.line, colItem, "%s is not in the Buying Catalogue", r.item)
			itemOK = false
		case supplierOK && it.supplierID != r.supplier:
			add(r.line, colItem, "%s (%s) is not a service of %s (%s): it is %s's (%s)", r.item, it.name, supplierName, r.supplier, it.supplierName, it.supplierID)
			itemOK = false
		case !it.hasPrice:
			add(r.line, colItem, "%s (%s) has no catalogue price, so its price cannot be recorded", r.item, it.name)
			itemOK = false
		}
		if practiceOK && itemOK && it.perPatient && p.listSize == 0 {
			add(r.line, colPractice, "practice %s has no list size on record, and %s is priced per patient, so its quantity is not known", r.practice, r.item)
		}
		if r.practice != "" && r.item != "" {
			k := practiceItem{r.practice, r.item}
			if line, ok := firstLine[k]; ok {
				add(r.line, "", "a duplicate row: practice %s and item %s are also on line %d; each service may appear only once", r.practice, r.item, line)
			} else {
				firstLine[k] = r.line
			}
		}
		if !practiceOK || !itemOK || r.start.IsZero() {
			continue
		}
		// One agreement per CCG per supplier, with one start date: every
		// row of an agreement must agree with it, rather than the import
		// guessing which date is right.
		k := ccgSupplier{p.ccgCode, it.supplierID}
		if start, ok := agreementStart[k]; ok {
			if !start.Equal(r.start) {
				add(r.line, colStartDate, "CCG %s's continuity agreement with %s started on %s; the row says %s",
					p.ccgCode, it.supplierName, start.Format(time.DateOnly), r.start.Format(time.DateOnly))
			}
		} else if line, ok := newStart[k]; ok {
			if first := rowsByLine[line]; !first.start.Equal(r.start) {
				add(r.line, colStartDate, "line %d starts CCG %s's continuity agreement with %s on %s; every row of that agreement must have the same date, not %s",
					line, p.ccgCode, it.supplierName, first.start.Format(time.DateOnly), r.start.Format(time.DateOnly))
			}
		} else {
			newStart[k] = r.line
		}
	}
	return errs, nil
}

// ImportContinuity loads a continuity file: a CSV with the header
// practice,supplier,item,start_date. A file with any bad row changes
// nothing and returns a *ContinuityFileError. Otherwise, in one
// transaction, each practice's CCG gets its agreement with the item's
// supplier (created with the row's start date when missing) and each
// practice × item not yet in it an active service instance from the
// agreement's start date. Importing the same file again adds nothing. The
// file may name any CCG's practices: the import is the command line's or
// an admin's, and the audit log records by as its actor.
func (s *Store) ImportContinuity(ctx context.Context, by org.Actor, r io.Reader) (ContinuityReport, error) {
	now := s.now()
	rows, rowErrs, err := parseContinuity(r)
	if err != nil {
		return ContinuityReport{}, err
	}
	report := ContinuityReport{Rows: len(rows)}
	err = postgres.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		// Imports and seeds one at a time, so that "created" in the report
		// and the audit log is true.
		if _, err := tx.Exec(ctx, `LOCK TABLE continuity_agreements IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return fmt.Errorf("lock agreements: %w", err)
		}
		errs, err := checkContinuity(ctx, tx, rows)
		if err != nil {
			return err
		}
		errs = append(rowErrs, errs...)
		if len(errs) > 0 {
			slices.SortStableFunc(errs, func(a, b ContinuityRowError) int { return a.Line - b.Line })
			return &ContinuityFileError{Errors: errs}
		}
		if len(rows) == 0 {
			return apperr.New(apperr.Invalid, "The continuity file has no rows to import, only its header.")
		}
		svcs := make([]continuityService, len(rows))
		for i, r := range rows {
			svcs[i] = continuityService{practice: r.practice, item: r.item, start: r.start}
		}
		created, added, err := writeContinuity(ctx, tx, now, by.ID, "continuity import", "import", svcs)
		if err != nil {
			return err
		}
		report.AgreementsCreated, report.ServicesAdded = created, added
		report.AlreadyPresent = len(rows) - added
		return nil
	})
	if err != nil {
		var fe *ContinuityFileError
		if errors.As(err, &fe) || apperr.Is(err, apperr.Invalid) {
			return ContinuityReport{}, err
		}
		return ContinuityReport{}, fmt.Errorf("import continuity file: %w", err)
	}
	return report, nil
}

// DemoContinuityItems are the GP clinical systems the demo agreements
// continue, by the supplier names of the practice-to-supplier mapping.
var DemoContinuityItems = map[string]string{
	"EMIS": "10000-001", // Emis Web GP, EMIS Health
	"TPP":  "10052-002", // SystmOne GP, TPP
}

// DemoContinuityFile is the practice-to-supplier mapping the demo
// agreements are built from (refdata, header ODSCode,Supplier).
const DemoContinuityFile = "PRMT_365_ODS_to_Supplier_Mapping.csv"

// SeedDemoContinuity builds the demo continuity agreements in tx: every
// practice of the mapping that the tracker has gets its GP clinical system
// (EMIS: Emis Web GP, TPP: SystmOne GP) under its CCG's agreement with the
// supplier, starting on start. Practices without a list size are left out,
// as those prices are per patient. Running it again adds nothing. It
// returns how many service instances it added.
func SeedDemoContinuity(ctx context.Context, tx pgx.Tx, now time.Time, files fs.FS, start time.Time) (int, error) {
	f, err := files.Open(DemoContinuityFile)
	if err != nil {
		return 0, fmt.Errorf("demo continuity: %w", err)
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return 0, fmt.Errorf("demo continuity: %s: %w", DemoContinuityFile, err)
	}
	if len(header) != 2 || strings.TrimPrefix(header[0], "\ufeff") != "ODSCode" || header[1] != "Supplier" {
		return 0, fmt.Errorf("demo continuity: %s: header is %q, want ODSCode,Supplier", DemoContinuityFile, header)
	}
	var svcs []continuityService
	seen := map[string]bool{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("demo continuity: %s: %w", DemoContinuityFile, err)
		}
		item, ok := DemoContinuityItems[rec[1]]
		if !ok {
			line, _ := cr.FieldPos(1)
			return 0, fmt.Errorf("demo continuity: %s line %d: unknown supplier %q", DemoContinuityFile, line, rec[1])
		}
		if seen[rec[0]] {
			continue
		}
		seen[rec[0]] = true
		svcs = append(svcs, continuityService{practice: rec[0], item: item, start: dates.Of(start)})
	}
	for _, id := range DemoContinuityItems {
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM catalogue_items WHERE id = $1)`, id).Scan(&ok); err != nil {
			return 0, fmt.Errorf("demo continuity: %w", err)
		}
		if !ok {
			return 0, fmt.Errorf("demo continuity: catalogue item %s is missing: seed the reference data first", id)
		}
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE continuity_agreements IN SHARE ROW EXCLUSIVE MODE`); err != nil {
		return 0, fmt.Errorf("lock agreements: %w", err)
	}
	_, added, err := writeContinuity(ctx, tx, now, nil, "continuity agreement (demo data)", "demo", svcs)
	if err != nil {
		return 0, fmt.Errorf("demo continuity: %w", err)
	}
	return added, nil
}

// writeContinuity adds the services in a handful of statements, whatever
// their number: the missing agreements, then the instances with their
// first history entries (as CreateTx writes them) in one INSERT ... SELECT,
// then the audit entries in one batch. Services already planned or active
// in their agreement, practices or items the tracker does not have, and
// per-patient services of practices without a list size are left out.
// It returns how many agreements it created and services it added.
func writeContinuity(ctx context.Context, tx pgx.Tx, now time.Time, actorID *int64, change, source string, svcs []continuityService) (int, int, error) {
	practices := make([]string, len(svcs))
	items := make([]string, len(svcs))
	starts := make([]time.Time, len(svcs))
	for i, s := range svcs {
		practices[i], items[i], starts[i] = s.practice, s.item, s.start
	}

	type createdAgreement struct {
		id              int64
		ccg, supplierID string
		start           time.Time
	}
	rows, err := tx.Query(ctx, `
		INSERT INTO continuity_agreements (ccg_code, supplier_id, start_date, created_at)
		SELECT DISTINCT ON (p.ccg_code, ci.supplier_id) p.ccg_code, ci.supplier_id, r.start, $4
		FROM unnest($1::text[], $2::text[], $3::date[]) AS r(practice, item, start)
		JOIN practices p ON p.code = r.practice
		JOIN catalogue_items ci ON ci.id = r.item
		ORDER BY p.ccg_code, ci.supplier_id, r.start
		ON CONFLICT (ccg_code, supplier_id) DO NOTHING
		RETURNING id, ccg_code, supplier_id, start_date`, practices, items, starts, now)
	if err != nil {
		return 0, 0, fmt.Errorf("create agreements: %w", err)
	}
	created, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (createdAgreement, error) {
		var a createdAgreement
		err := row.Scan(&a.id, &a.ccg, &a.supplierID, &a.start)
		return a, err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("create agreements: %w", err)
	}

	// The history's "after" is the snapshot CreateTx writes: state, the dates
	// that are set, and the quantity.
	rows, err = tx.Query(ctx, `
		WITH ins AS (
			INSERT INTO service_instances (ccg_code, practice_code, catalogue_item_id, supplier_id, agreement_id,
				unit_price, pricing_unit, time_unit, quantity_rule, quantity, actual_m1, m2, state, created_at)
			SELECT p.ccg_code, p.code, ci.id, ci.supplier_id, a.id, cp.price, pu.name, cp.time_unit,
			       CASE WHEN pu.name ILIKE '%patient%' THEN 'list_size' ELSE 'fixed' END,
			       CASE WHEN pu.name ILIKE '%patient%' THEN p.list_size ELSE 1 END,
			       a.start_date, a.start_date, 'active', $3
			FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS r(practice, item, n)
			JOIN practices p ON p.code = r.practice
			JOIN catalogue_items ci ON ci.id = r.item
			JOIN continuity_agreements a ON a.ccg_code = p.ccg_code AND a.supplier_id = ci.supplier_id
			JOIN LATERAL (SELECT price, pricing_unit_id, time_unit FROM catalogue_prices
			              WHERE item_id = ci.id ORDER BY id LIMIT 1) cp ON true
			JOIN pricing_units pu ON pu.id = cp.pricing_unit_id
			WHERE NOT (pu.name ILIKE '%patient%' AND coalesce(p.list_size, 0) = 0)
			ORDER BY r.n
			-- The partial unique index on (agreement, practice, item) of the
			-- planned and active instances: what is there already stays.
			ON CONFLICT DO NOTHING
			RETURNING id, agreement_id, state, actual_m1, m2, quantity
		), hist AS (
			INSERT INTO service_instance_history (instance_id, at, actor_id, change, after)
			SELECT id, $3, $4, $5, jsonb_build_object('state', state, 'actual_m1', to_char(actual_m1, 'YYYY-MM-DD'),
			       'm2', to_char(m2, 'YYYY-MM-DD'), 'quantity', quantity)
			FROM ins
		)
		SELECT agreement_id, count(*) FROM ins GROUP BY agreement_id`, practices, items, now, actorID, change)
	if err != nil {
		return 0, 0, fmt.Errorf("add continuity services: %w", err)
	}
	addedTo := map[int64]int{}
	var aid int64
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&aid, &n}, func() error {
		addedTo[aid] = n
		return nil
	}); err != nil {
		return 0, 0, fmt.Errorf("add continuity services: %w", err)
	}

	batch := &pgx.Batch{}
	isNew := map[int64]bool{}
	for _, a := range created {
		isNew[a.id] = true
		after := map[string]any{
			"ccg_code": a.ccg, "supplier_id": a.supplierID, "start_date": a.start.Format(time.DateOnly),
			"services_added": addedTo[a.id], "source": source,
		}
		if err := audit.Queue(batch, audit.Event{
			At:         now,
			By:         actorID,
			Action:     "agreement.create",
			EntityType: "agreement",
			EntityID:   strconv.FormatInt(a.id, 10),
			After:      after,
		}); err != nil {
			return 0, 0, err
		}
	}
	// An agreement that existed and gained services changed too.
	ids := make([]int64, 0, len(addedTo))
	for id := range addedTo {
		if !isNew[id] {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		after := map[string]any{"services_added": addedTo[id], "source": source}
		if err := audit.Queue(batch, audit.Event{
			At:         now,
			By:         actorID,
			Action:     "agreement.add_services",
			EntityType: "agreement",
			EntityID:   strconv.FormatInt(id, 10),
			After:      after,
		}); err != nil {
			return 0, 0, err
		}
	}
	if batch.Len() > 0 {
		if err := tx.SendBatch(ctx, batch).Close(); err != nil {
			return 0, 0, fmt.Errorf("audit agreements: %w", err)
		}
	}
	total := 0
	for _, n := range addedTo {
		total += n
	}
	return len(created), total, nil
}
