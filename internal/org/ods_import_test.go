package org_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/audit"
	"ccgtracker/internal/org"
	"ccgtracker/internal/postgres/pgtest"
	"ccgtracker/internal/refdata"
	"ccgtracker/internal/testkit"
)

// The seeded database holds the 6,527 practices of the January 2022 map.
const seededPractices = 6527

// storedPractice is a practices row as the import leaves it.
type storedPractice struct {
	Name, Postcode, CCG string
	OpenDate, CloseDate *time.Time
	Status              string
	UpdatedAt           time.Time
}

// readPractice returns the practice, or false when there is none.
func readPractice(t *testing.T, pool *pgxpool.Pool, code string) (storedPractice, bool) {
	t.Helper()
	var p storedPractice
	err := pool.QueryRow(context.Background(), `
		SELECT name, postcode, ccg_code, open_date, close_date, status, updated_at FROM practices WHERE code = $1`, code).
		Scan(&p.Name, &p.Postcode, &p.CCG, &p.OpenDate, &p.CloseDate, &p.Status, &p.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, false
	}
	if err != nil {
		t.Fatalf("read practice %s: %v", code, err)
	}
	return p, true
}

func countRows(t *testing.T, pool *pgxpool.Pool, sql string) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), sql).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func importString(t *testing.T, pool *pgxpool.Pool, now time.Time, file string) (org.ODSReport, error) {
	t.Helper()
	report, _, err := org.NewStore(pool, testkit.NewClock(now).Now).ImportODS(context.Background(), org.System(), "epraccur.csv", strings.NewReader(file), nil)
	return report, err
}

// jsonEqual compares a JSON document with the value want would marshal to.
func jsonEqual(t *testing.T, what string, got json.RawMessage, want any) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	b, _ := json.Marshal(want)
	_ = json.Unmarshal(b, &w)
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s = %s, want %s", what, got, b)
	}
}

func TestImportODSRealFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	first := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

	f, err := refdata.FS().Open("epraccur.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	start := time.Now()
	report, _, err := org.NewStore(pool, testkit.NewClock(first).Now).ImportODS(ctx, org.System(), "epraccur.csv", f, nil)
	if err != nil {
		t.Fatalf("import of the real file: %v", err)
	}
	t.Logf("first import took %v", time.Since(start))

	// The figures were worked out apart from the importer, by comparing the
	// file with the seeded practices and CCGs in a script: 756 new practices
	// of the 2022 CCGs (440 closed, 179 active, 137 dormant); 410 practices
	// with a 2019 name (305) or postcode (154) that differs; 6,086 rows that
	// are not GP practices and 943 new practices of 2019 CCGs that no longer
	// exist; 3,248 practices whose 2019 commissioner (112 codes) is not a
	// 2022 CCG, which keep their CCG.
	if report.RowsRead != 14303 {
		t.Errorf("rows read = %d, want 14303", report.RowsRead)
	}
	if len(report.Inserted) != 756 || len(report.Updated) != 410 || report.Unchanged != 6108 {
		t.Errorf("inserted %d, updated %d, unchanged %d; want 756, 410, 6108", len(report.Inserted), len(report.Updated), report.Unchanged)
	}
	wantSkipped := map[org.ODSSkipReason]int{org.ODSSkipNotPractice: 6086, org.ODSSkipCommissioner: 943}
	if !reflect.DeepEqual(report.Skipped, wantSkipped) {
		t.Errorf("skipped = %v, want %v", report.Skipped, wantSkipped)
	}
	if sum := len(report.Inserted) + len(report.Updated) + report.Unchanged + report.SkippedTotal(); sum != report.RowsRead {
		t.Errorf("inserted + updated + unchanged + skipped = %d, not the %d rows read", sum, report.RowsRead)
	}
	if len(report.Warnings) != 3248 {
		t.Errorf("warnings = %d, want 3248", len(report.Warnings))
	}
	fieldCounts := map[string]int{}
	for _, u := range report.Updated {
		for _, c := range u.Changes {
			fieldCounts[c.Field]++
		}
	}
	if want := map[string]int{"name": 305, "postcode": 154}; !reflect.DeepEqual(fieldCounts, want) {
		t.Errorf("changed fields = %v, want %v", fieldCounts, want)
	}

	// A81001's 2019 commissioner 00K merged into 16C in 2020.
	wantWarning := org.ODSWarning{Line: 1, Code: "A81001", Commissioner: "00K", Reason: "commissioner 00K is not a CCG in the tracker", KeptCCG: "16C"}
	if len(report.Warnings) == 0 || report.Warnings[0] != wantWarning {
		t.Errorf("warnings start %+v, want %+v", report.Warnings[:min(1, len(report.Warnings))], wantWarning)
	}
	if p, _ := readPractice(t, pool, "A81001"); p.CCG != "16C" || p.Status != "A" {
		t.Errorf("A81001 is in CCG %s with status %s, want 16C and A", p.CCG, p.Status)
	}

	// A82011 is a practice of 01H that closed in 2016: its row in the file is
	// "A82011","HARTINGTON STREET MEDICAL PRACTICE",...,"LA14 5SL","19740401","20160531","C","B","01H",...
	p, ok := readPractice(t, pool, "A82011")
	if !ok {
		t.Fatal("A82011 was not inserted")
	}
	want := storedPractice{Name: "HARTINGTON STREET MEDICAL PRACTICE", Postcode: "LA14 5SL", CCG: "01H",
		OpenDate: date(1974, 4, 1), CloseDate: date(2016, 5, 31), Status: "C"}
	if p.Name != want.Name || p.Postcode != want.Postcode || p.CCG != want.CCG || !sameDate(p.OpenDate, want.OpenDate) ||
		!sameDate(p.CloseDate, want.CloseDate) || p.Status != want.Status || !p.UpdatedAt.Equal(first) {
		t.Errorf("A82011 = %+v, want %+v updated at %v", p, want, first)
	}

	if n := countRows(t, pool, `SELECT count(*) FROM practices`); n != seededPractices+756 {
		t.Errorf("practices = %d, want %d", n, seededPractices+756)
	}
	if n := countRows(t, pool, `SELECT count(*) FROM audit_log WHERE action = 'practice.ods_insert' AND actor_id IS NULL`); n != 756 {
		t.Errorf("insert audit entries = %d, want 756", n)
	}
	if n := countRows(t, pool, `SELECT count(*) FROM audit_log WHERE action = 'practice.ods_update' AND actor_id IS NULL`); n != 410 {
		t.Errorf("update audit entries = %d, want 410", n)
	}
	if n := countRows(t, pool, `SELECT count(*) FROM practices WHERE updated_at = '2026-03-02 10:00:00Z'`); n != 756+410 {
		t.Errorf("practices stamped with the import time = %d, want %d", n, 756+410)
	}

	// The same file again changes nothing.
	second := first.Add(24 * time.Hour)
	f2, err := refdata.FS().Open("epraccur.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f2.Close()
	start = time.Now()
	again, _, err := org.NewStore(pool, testkit.NewClock(second).Now).ImportODS(ctx, org.System(), "epraccur.csv", f2, nil)
	if err != nil {
		t.Fatalf("second import of the real file: %v", err)
	}
	t.Logf("second import took %v", time.Since(start))
	if len(again.Inserted) != 0 || len(again.Updated) != 0 {
		t.Errorf("second import inserted %d and updated %d practices, want none", len(again.Inserted), len(again.Updated))
	}
	if again.RowsRead != 14303 || again.Unchanged != 756+410+6108 || !reflect.DeepEqual(again.Skipped, wantSkipped) {
		t.Errorf("second import: rows %d, unchanged %d, skipped %v; want 14303, %d, %v",
			again.RowsRead, again.Unchanged, again.Skipped, 756+410+6108, wantSkipped)
	}
	if len(again.Warnings) != 3248 {
		t.Errorf("second import warnings = %d, want the same 3248", len(again.Warnings))
	}
	if n := countRows(t, pool, `SELECT count(*) FROM audit_log`); n != 756+410 {
		t.Errorf("audit entries after the second import = %d, want still %d", n, 756+410)
	}
	if n := countRows(t, pool, `SELECT count(*) FROM practices WHERE updated_at = '2026-03-03 10:00:00Z'`); n != 0 {
		t.Errorf("%d practices were stamped by the second import, want 0", n)
	}
}

func TestImportODSSmallFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	// 84H stays in the table but no longer takes practices.
	if _, err := pool.Exec(ctx, `UPDATE ccgs SET active = false WHERE code = '84H'`); err != nil {
		t.Fatal(err)
	}
	before, _ := readPractice(t, pool, "A81005")

	densham := map[int]string{2: "THE DENSHAM SURGERY", 10: "TS18 1HU", 11: "19740401"}
	withCols := func(base map[int]string, extra map[int]string) map[int]string {
		m := map[int]string{}
		for c, v := range base {
			m[c] = v
		}
		for c, v := range extra {
			m[c] = v
		}
		return m
	}
	file := odsFile(
		// 1: A81001 closes.
		practiceCols("A81001", withCols(densham, map[int]string{12: "20220331", 13: "C"})),
		// 2: a new practice of 16C.
		practiceCols("Y99901", map[int]string{2: "NEW TEST SURGERY", 11: "20220101"}),
		// 3: A81002 renamed, under a commissioner the tracker does not have.
		practiceCols("A81002", map[int]string{2: "QUEENS PARK MEDICAL CENTRE (RENAMED)", 10: "TS18 2AW", 11: "19740401", 15: "00K"}),
		// 4: a walk-in centre.
		practiceCols("Y99902", map[int]string{2: "WALK IN CENTRE", 26: "0"}),
		// 5: a new practice of a CCG the tracker does not have.
		practiceCols("Y99903", map[int]string{15: "00K"}),
		// 6: A81004 moves to Newcastle Gateshead.
		practiceCols("A81004", map[int]string{2: "ACKLAM MEDICAL CENTRE", 10: "TS5 8SB", 11: "19740401", 15: "13T"}),
		// 7: A81005 as it is, under an inactive CCG.
		practiceCols("A81005", map[int]string{2: "SPRINGWOOD SURGERY", 10: "TS14 7DJ", 11: "19740401", 15: "84H"}),
	)
	report, err := importString(t, pool, now, file)
	if err != nil {
		t.Fatalf("import: %v", err)
	}

	want := org.ODSReport{
		RowsRead: 7,
		Inserted: []org.ODSInsert{{Line: 2, Code: "Y99901", Name: "NEW TEST SURGERY", CCGCode: "16C", Status: "A"}},
		Updated: []org.ODSUpdate{
			{Line: 1, Code: "A81001", Changes: []org.ODSFieldChange{
				{Field: "close_date", Before: "", After: "2022-03-31"},
				{Field: "status", Before: "A", After: "C"},
			}},
			{Line: 3, Code: "A81002", Changes: []org.ODSFieldChange{
				{Field: "name", Before: "QUEENS PARK MEDICAL CENTRE", After: "QUEENS PARK MEDICAL CENTRE (RENAMED)"},
			}},
			{Line: 6, Code: "A81004", Changes: []org.ODSFieldChange{
				{Field: "ccg_code", Before: "16C", After: "13T"},
			}},
		},
		Unchanged: 1,
		Skipped:   map[org.ODSSkipReason]int{org.ODSSkipNotPractice: 1, org.ODSSkipCommissioner: 1},
		Warnings: []org.ODSWarning{
			{Line: 3, Code: "A81002", Commissioner: "00K", Reason: "commissioner 00K is not a CCG in the tracker", KeptCCG: "16C"},
			{Line: 7, Code: "A81005", Commissioner: "84H", Reason: "commissioner 84H is an inactive CCG in the tracker", KeptCCG: "16C"},
		},
	}
	if !reflect.DeepEqual(report, want) {
		t.Errorf("report:\n got %+v\nwant %+v", report, want)
	}

	t.Run("closed practice", func(t *testing.T) {
		p, _ := readPractice(t, pool, "A81001")
		if p.Status != "C" || !sameDate(p.CloseDate, date(2022, 3, 31)) || !sameDate(p.OpenDate, date(1974, 4, 1)) ||
			p.CCG != "16C" || !p.UpdatedAt.Equal(now) {
			t.Errorf("A81001 = %+v, want closed on 2022-03-31 in 16C, updated at %v", p, now)
		}
		entries, err := audit.ForEntity(ctx, pool, "practice", "A81001", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 {
			t.Fatalf("A81001 has %d audit entries, want 1", len(entries))
		}
		e := entries[0]
		if e.Action != "practice.ods_update" || e.ActorID != nil || e.ActorEmail != "system" || !e.At.Equal(now) {
			t.Errorf("audit entry = %s by %v (%s) at %v, want practice.ods_update by the system at %v", e.Action, e.ActorID, e.ActorEmail, e.At, now)
		}
		jsonEqual(t, "before", e.Before, map[string]any{"close_date": nil, "status": "A"})
		jsonEqual(t, "after", e.After, map[string]any{"close_date": "2022-03-31", "status": "C"})
	})

	t.Run("new practice", func(t *testing.T) {
		p, ok := readPractice(t, pool, "Y99901")
		if !ok {
			t.Fatal("Y99901 was not inserted")
		}
		if p.Name != "NEW TEST SURGERY" || p.Postcode != "TS1 1AA" || p.CCG != "16C" || p.Status != "A" ||
			!sameDate(p.OpenDate, date(2022, 1, 1)) || p.CloseDate != nil || !p.UpdatedAt.Equal(now) {
			t.Errorf("Y99901 = %+v", p)
		}
		entries, err := audit.ForEntity(ctx, pool, "practice", "Y99901", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 || entries[0].Action != "practice.ods_insert" {
			t.Fatalf("Y99901 audit entries = %+v, want one practice.ods_insert", entries)
		}
		jsonEqual(t, "before", entries[0].Before, nil)
		jsonEqual(t, "after", entries[0].After, map[string]any{
			"name": "NEW TEST SURGERY", "postcode": "TS1 1AA", "ccg_code": "16C",
			"open_date": "2022-01-01", "close_date": nil, "status": "A",
		})
	})

	t.Run("unknown commissioner keeps the CCG but applies the rest", func(t *testing.T) {
		p, _ := readPractice(t, pool, "A81002")
		if p.CCG != "16C" || p.Name != "QUEENS PARK MEDICAL CENTRE (RENAMED)" {
			t.Errorf("A81002 is %q in CCG %s, want the new name in 16C", p.Name, p.CCG)
		}
	})

	t.Run("active commissioner moves the practice", func(t *testing.T) {
		if p, _ := readPractice(t, pool, "A81004"); p.CCG != "13T" {
			t.Errorf("A81004 is in CCG %s, want 13T", p.CCG)
		}
	})

	t.Run("inactive commissioner changes nothing", func(t *testing.T) {
		p, _ := readPractice(t, pool, "A81005")
		if p.CCG != "16C" || !p.UpdatedAt.Equal(before.UpdatedAt) {
			t.Errorf("A81005 is in CCG %s, updated at %v; want 16C, untouched since %v", p.CCG, p.UpdatedAt, before.UpdatedAt)
		}
	})

	t.Run("skipped rows are not inserted", func(t *testing.T) {
		for _, code := range []string{"Y99902", "Y99903"} {
			if _, ok := readPractice(t, pool, code); ok {
				t.Errorf("%s was inserted", code)
			}
		}
		if n := countRows(t, pool, `SELECT count(*) FROM practices`); n != seededPractices+1 {
			t.Errorf("practices = %d, want %d", n, seededPractices+1)
		}
	})

	t.Run("one audit entry per inserted or changed practice", func(t *testing.T) {
		rows, err := pool.Query(ctx, `SELECT entity_id || ' ' || action FROM audit_log ORDER BY entity_id`)
		if err != nil {
			t.Fatal(err)
		}
		got, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"A81001 practice.ods_update", "A81002 practice.ods_update", "A81004 practice.ods_update", "Y99901 practice.ods_insert"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("audit entries = %q, want %q", got, want)
		}
	})

	t.Run("summary", func(t *testing.T) {
		s := report.Summary()
		for _, line := range []string{
			"ODS import: 7 rows read\n",
			"  practices inserted:  1\n",
			"  practices updated:   3\n",
			"  practices unchanged: 1\n",
			"  rows skipped:        2\n",
			"    not a GP practice: 1\n",
			"    commissioner is not an active CCG in the tracker: 1\n",
			"  warnings:            2\n",
			"  Y99901 NEW TEST SURGERY, CCG 16C, status A\n",
			`  A81001: close_date (none) -> "2022-03-31"; status "A" -> "C"` + "\n",
			`  A81004: ccg_code "16C" -> "13T"` + "\n",
			"  commissioner 00K is not a CCG in the tracker: 1 practice (A81002)\n",
			"  commissioner 84H is an inactive CCG in the tracker: 1 practice (A81005)\n",
		} {
			if !strings.Contains(s, line) {
				t.Errorf("summary has no line %q; it is:\n%s", line, s)
			}
		}
	})
}

func TestImportODSBadFileChangesNothing(t *testing.T) {
	t.Parallel()
	// Good rows that would close A81001 and add Y99901, were the file good.
	good := []map[int]string{
		practiceCols("A81001", map[int]string{2: "THE DENSHAM SURGERY", 10: "TS18 1HU", 11: "19740401", 12: "20220331", 13: "C"}),
		practiceCols("Y99901", nil),
	}
	short := practiceCols("Y99902", nil)
	tests := []struct {
		name    string
		file    string
		line    int
		column  string
		message string
	}{
		{
			name:    "row with 26 columns after good rows",
			file:    odsFile(good...) + strings.TrimSuffix(odsLine(short), ",\"\"\r\n") + "\r\n",
			line:    3,
			column:  "",
			message: "has 26 columns; an ODS practice file has 27",
		},
		{
			name:    "open date in month 13 after good rows",
			file:    odsFile(append(good, practiceCols("Y99902", map[int]string{11: "20191301"}))...),
			line:    3,
			column:  "column 11 (open date)",
			message: `"20191301" is not a date in the form YYYYMMDD`,
		},
		{
			name:    "status X after good rows",
			file:    odsFile(append(good, practiceCols("Y99902", map[int]string{13: "X"}))...),
			line:    3,
			column:  "column 13 (status)",
			message: `"X" is not one of A, C, D or P`,
		},
		{
			name:    "close date before open date after good rows",
			file:    odsFile(append(good, practiceCols("Y99902", map[int]string{11: "20190401", 12: "20190331"}))...),
			line:    3,
			column:  "column 12 (close date)",
			message: "31 March 2019 is before the open date 1 April 2019",
		},
		{
			name:    "bad organisation code after good rows",
			file:    odsFile(append(good, practiceCols("Y999-2", nil))...),
			line:    3,
			column:  "column 1 (organisation code)",
			message: `"Y999-2" is not an ODS code`,
		},
		{
			name:    "code given twice",
			file:    odsFile(append(good, practiceCols("A81001", nil))...),
			line:    3,
			column:  "column 1 (organisation code)",
			message: "A81001 is also on line 1; each organisation may appear only once",
		},
		{
			name:    "bad row before good rows",
			file:    odsFile(append([]map[int]string{practiceCols("Y99902", map[int]string{13: "X"})}, good...)...),
			line:    1,
			column:  "column 13 (status)",
			message: `"X" is not one of A, C, D or P`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pool := pgtest.New(t)
			now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

			report, err := importString(t, pool, now, tc.file)
			if err == nil {
				t.Fatalf("import succeeded: %+v", report)
			}
			if code := apperr.CodeOf(err); code != apperr.Invalid {
				t.Errorf("error code = %s, want invalid (%v)", code, err)
			}
			var fe *org.ODSFileError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T %v is not an *ODSFileError", err, err)
			}
			if len(fe.Errors) != 1 {
				t.Fatalf("got %d row errors %v, want 1", len(fe.Errors), fe.Errors)
			}
			got := fe.Errors[0]
			if got.Line != tc.line || got.Column != tc.column || got.Message != tc.message {
				t.Errorf("row error = line %d, column %q, %q; want line %d, column %q, %q",
					got.Line, got.Column, got.Message, tc.line, tc.column, tc.message)
			}
			wantText := fmt.Sprintf("The ODS file has 1 error, so nothing was imported:\n  %s", org.ODSRowError{Line: tc.line, Column: tc.column, Message: tc.message})
			if err.Error() != wantText {
				t.Errorf("error text = %q, want %q", err.Error(), wantText)
			}
			if msg := apperr.MessageOf(err); msg != wantText {
				t.Errorf("message shown to a person = %q, want %q", msg, wantText)
			}
			if !reflect.DeepEqual(report, org.ODSReport{}) {
				t.Errorf("report of a failed import = %+v, want empty", report)
			}

			if p, _ := readPractice(t, pool, "A81001"); p.Status != "A" || p.CloseDate != nil {
				t.Errorf("A81001 has status %s, close date %v; want A and none", p.Status, p.CloseDate)
			}
			if _, ok := readPractice(t, pool, "Y99901"); ok {
				t.Error("Y99901 was inserted")
			}
			if n := countRows(t, pool, `SELECT count(*) FROM practices`); n != seededPractices {
				t.Errorf("practices = %d, want %d", n, seededPractices)
			}
			if n := countRows(t, pool, `SELECT count(*) FROM audit_log`); n != 0 {
				t.Errorf("audit entries = %d, want 0", n)
			}
		})
	}
}

func TestImportODSListsEveryBadRow(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	rows := []map[int]string{practiceCols("Y99901", nil)}
	for i := range 60 {
		rows = append(rows, practiceCols(fmt.Sprintf("Y%05d", 90000+i), map[int]string{13: "X"}))
	}
	_, err := importString(t, pool, time.Now(), odsFile(rows...))
	var fe *org.ODSFileError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v is not an *ODSFileError", err)
	}
	if len(fe.Errors) != 60 {
		t.Fatalf("got %d row errors, want 60", len(fe.Errors))
	}
	for i, e := range fe.Errors {
		if e.Line != i+2 {
			t.Errorf("row error %d is on line %d, want %d", i, e.Line, i+2)
		}
	}
	text := err.Error()
	lines := strings.Split(text, "\n")
	if len(lines) != 1+50+1 {
		t.Errorf("error text has %d lines, want a heading, 50 rows and a tail", len(lines))
	}
	if lines[0] != "The ODS file has 60 errors, so nothing was imported:" {
		t.Errorf("heading = %q", lines[0])
	}
	if want := `  line 51, column 13 (status): "X" is not one of A, C, D or P`; lines[50] != want {
		t.Errorf("50th listed row = %q, want %q", lines[50], want)
	}
	if want := "  and 10 more errors"; lines[len(lines)-1] != want {
		t.Errorf("last line = %q, want %q", lines[len(lines)-1], want)
	}
	if _, ok := readPractice(t, pool, "Y99901"); ok {
		t.Error("Y99901 was inserted from a file with bad rows")
	}
}

func TestImportODSEmptyFileIsInvalid(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	_, err := importString(t, pool, time.Now(), "")
	if apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("error = %v, want an invalid error", err)
	}
	if msg := apperr.MessageOf(err); msg != "The ODS file is empty: it has no rows to import." {
		t.Errorf("message = %q", msg)
	}
}

func TestImportODSByteOrderMarkAndLatin1Name(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	// "CAFÉ SURGERY" in Latin-1, after the UTF-8 byte order mark Excel writes.
	file := "\xef\xbb\xbf" + odsFile(practiceCols("Y99901", map[int]string{2: "CAF\xc9 SURGERY"}))
	report, err := importString(t, pool, now, file)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	if len(report.Inserted) != 1 || report.Inserted[0].Code != "Y99901" {
		t.Fatalf("inserted = %+v, want Y99901", report.Inserted)
	}
	if p, _ := readPractice(t, pool, "Y99901"); p.Name != "CAFÉ SURGERY" {
		t.Errorf("name = %q, want %q", p.Name, "CAFÉ SURGERY")
	}
}

// The CCG and region counts are kept by triggers, not counted per request:
// after an import closes, adds and moves practices they still agree with
// the practices themselves, and they did change.
func TestImportODSKeepsPracticeCountsCurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	type counts struct {
		practices int
		patients  int64
	}
	truth := func(code string) counts {
		var c counts
		if err := pool.QueryRow(ctx, `
			SELECT count(*), coalesce(sum(list_size), 0) FROM practices WHERE ccg_code = $1 AND status = 'A'`, code).
			Scan(&c.practices, &c.patients); err != nil {
			t.Fatal(err)
		}
		return c
	}
	shown := func(code string) counts {
		c, err := org.GetCCG(ctx, pool, org.AllCCGs(), code)
		if err != nil {
			t.Fatal(err)
		}
		return counts{c.PracticeCount, c.Patients}
	}
	regionTotals := func() (ccgs, practices int) {
		regions, err := org.ListRegions(ctx, pool, org.AllCCGs())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range regions {
			ccgs += r.CCGCount
			practices += r.PracticeCount
		}
		return ccgs, practices
	}
	before16C, before13T := shown("16C"), shown("13T")
	if before16C != truth("16C") || before13T != truth("13T") {
		t.Fatalf("seeded counts: 16C %+v, 13T %+v; practices say %+v and %+v", before16C, before13T, truth("16C"), truth("13T"))
	}
	if ccgs, practices := regionTotals(); ccgs != 106 || practices != countRows(t, pool, `SELECT count(*) FROM practices WHERE status = 'A'`) {
		t.Fatalf("regions before the import: %d CCGs, %d practices", ccgs, practices)
	}

	file := odsFile(
		practiceCols("A81001", map[int]string{2: "THE DENSHAM SURGERY", 10: "TS18 1HU", 11: "19740401", 12: "20220331", 13: "C"}),
		practiceCols("Y99901", map[int]string{2: "NEW TEST SURGERY", 11: "20220101"}),
		practiceCols("A81004", map[int]string{2: "ACKLAM MEDICAL CENTRE", 10: "TS5 8SB", 11: "19740401", 15: "13T"}),
	)
	if _, err := importString(t, pool, time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), file); err != nil {
		t.Fatalf("import: %v", err)
	}
	after16C, after13T := shown("16C"), shown("13T")
	if after16C != truth("16C") || after13T != truth("13T") {
		t.Errorf("after the import: 16C %+v, 13T %+v; practices say %+v and %+v", after16C, after13T, truth("16C"), truth("13T"))
	}
	// One closed and one moved out, one new: 16C has one open practice fewer.
	if after16C.practices != before16C.practices-1 || after13T.practices != before13T.practices+1 || after13T.patients <= before13T.patients {
		t.Errorf("counts did not move: 16C %+v → %+v, 13T %+v → %+v", before16C, after16C, before13T, after13T)
	}
	if _, practices := regionTotals(); practices != countRows(t, pool, `SELECT count(*) FROM practices WHERE status = 'A'`) {
		t.Errorf("regions after the import: %d practices", practices)
	}

	// Practices leave only by hand, but the counts follow that too.
	if _, err := pool.Exec(ctx, `DELETE FROM audit_log WHERE entity_id = 'Y99901'`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `DELETE FROM practices WHERE code = 'Y99901'`); err != nil {
		t.Fatal(err)
	}
	if got := shown("16C"); got != truth("16C") || got.practices != after16C.practices-1 {
		t.Errorf("after a delete: 16C %+v, practices say %+v", got, truth("16C"))
	}
}
