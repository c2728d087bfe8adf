package org_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/org"
	"ccgtracker/internal/paging"
	"ccgtracker/internal/postgres/pgtest"
	"ccgtracker/internal/refdata"
	"ccgtracker/internal/testkit"
)

// nationalListSizes is NHS Digital's national file of January 2021, as
// published (internal/refdata: the seed loaded the practices' sizes from
// it), as lines.
func nationalListSizes(t *testing.T) []string {
	t.Helper()
	b, err := fs.ReadFile(refdata.FS(), "gp-reg-pat-prac-all.csv")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimRight(string(b), "\r\n"), "\n")
}

// listSizeState is what an import may change, summed so that "nothing
// changed" is one comparison: the extracts, the practices' own sizes, the
// billing input version, the history of imports and the audit log.
func listSizeState(t *testing.T, pool *pgxpool.Pool) sizeState {
	t.Helper()
	var s sizeState
	if err := pool.QueryRow(context.Background(), `
		SELECT (SELECT md5(coalesce(string_agg(practice_code || extract_date || size || created_at, ',' ORDER BY practice_code, extract_date), '')) FROM practice_list_sizes)
		    || (SELECT md5(string_agg(code || coalesce(list_size, -1) || coalesce(list_size_date::text, ''), ',' ORDER BY code)) FROM practices)
		    || (SELECT version FROM billing_inputs),
		       (SELECT count(*) FROM imports), (SELECT count(*) FROM audit_log)`).Scan(&s.data, &s.imports, &s.audit); err != nil {
		t.Fatal(err)
	}
	return s
}

type sizeState struct {
	data           string // the extracts, the practices' sizes, the billing version
	imports, audit int
}

func importSizes(t *testing.T, pool *pgxpool.Pool, at time.Time, name string, lines []string) (org.ListSizeReport, error) {
	t.Helper()
	return org.NewStore(pool, testkit.NewClock(at).Now).ImportListSizes(context.Background(), org.System(), name, strings.NewReader(strings.Join(lines, "\n")+"\n"))
}

// The national file the practices were seeded from changes no size: every
// practice the tracker knows is unchanged, the ones it does not know are
// counted and listed, and nothing is written; a later extract with three
// sizes changed adds an extract for every practice, counts three changed,
// and importing it again changes nothing at all.
func TestListSizeImportOfTheNationalFile(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	ctx := context.Background()
	lines := nationalListSizes(t)
	rows := len(lines) - 1
	known := countRows(t, pool, `SELECT count(*) FROM practice_list_sizes`)
	if known != seededPractices-4 {
		t.Fatalf("%d first extracts seeded, want one for each of the %d practices with a size in January 2021 (4 have none)", known, seededPractices-4)
	}
	before := listSizeState(t, pool)

	at := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	rep, err := importSizes(t, pool, at, "gp-reg-pat-prac-all.csv", lines)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rows != rows || rep.New != 0 || rep.ChangedN != 0 || rep.Unchanged != known || rep.UnknownN != rows-known || rep.Written != 0 {
		t.Errorf("the seeded file again: %+v; want %d rows, all %d known unchanged, %d unknown, nothing written", rep, rows, known, rows-known)
	}
	if len(rep.Unknown) == 0 || len(rep.Unknown) > rep.UnknownN {
		t.Errorf("unknown practices listed: %v of %d", rep.Unknown, rep.UnknownN)
	}
	if n := countRows(t, pool, `SELECT count(*) FROM practice_list_sizes`); n != known {
		t.Errorf("%d extracts after importing the same sizes, want %d", n, known)
	}
	if n := countRows(t, pool, `SELECT count(*) FROM imports WHERE kind = 'list_sizes'`); n != 1 {
		t.Errorf("%d imports in the history, want 1", n)
	}

	// February: A84002 5,903 → 6,000; A84005 12,066 → 0; A84006 18,638 → 18,000.
	feb := make([]string, len(lines))
	copy(feb, lines)
	changes := map[string]string{"A84002": "6000", "A84005": "0", "A84006": "18000"}
	for i := 1; i < len(feb); i++ {
		feb[i] = strings.Replace(feb[i], ",01JAN2021,", ",01FEB2021,", 1)
		f := strings.Split(feb[i], ",")
		if n, ok := changes[f[5]]; ok {
			f[9] = n
			feb[i] = strings.Join(f, ",")
		}
	}
	versionBefore := countRows(t, pool, `SELECT version FROM billing_inputs`)
	rep, err = importSizes(t, pool, at.Add(time.Hour), "february.csv", feb)
	if err != nil {
		t.Fatal(err)
	}
	if rep.New != 0 || rep.ChangedN != 3 || rep.Unchanged != known-3 || rep.Written != known || !rep.ExtractDate.Equal(time.Date(2021, 2, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("February: %+v; want 3 changed, %d unchanged, %d extracts written", rep, known-3, known)
	}
	if len(rep.Changed) != 3 || rep.Changed[0] != (org.SizeChange{Code: "A84002", Before: 5903, After: 6000}) {
		t.Errorf("changed listed: %+v", rep.Changed)
	}
	if n := countRows(t, pool, `SELECT count(*) FROM practice_list_sizes`); n != 2*known {
		t.Errorf("%d extracts, want January's and February's: %d", n, 2*known)
	}
	if v := countRows(t, pool, `SELECT version FROM billing_inputs`); v <= versionBefore {
		t.Errorf("billing input version %d after a new extract, was %d: cached months would go stale", v, versionBefore)
	}
	p, err := org.GetPractice(ctx, pool, org.AllCCGs(), "A84002")
	if err != nil || p.ListSize == nil || *p.ListSize != 6000 || !p.ListSizeDate.Equal(rep.ExtractDate) {
		t.Errorf("A84002's own size after February: %+v (%v)", p, err)
	}
	hist, err := org.ListSizeHistory(ctx, pool, "A84002")
	if err != nil || len(hist) != 2 || hist[0].Size != 6000 || hist[1].Size != 5903 || hist[1].Date.Month() != time.January {
		t.Errorf("A84002's history: %+v (%v)", hist, err)
	}

	// The same file twice: nothing changes but the history, which says so.
	mid := listSizeState(t, pool)
	rep, err = importSizes(t, pool, at.Add(2*time.Hour), "february.csv", feb)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Written != 0 || rep.ChangedN != 0 || rep.New != 0 || rep.Unchanged != known {
		t.Errorf("February again: %+v; want all unchanged, nothing written", rep)
	}
	after := listSizeState(t, pool)
	// Only the history of imports and the audit log have one more entry.
	if mid.data != after.data || after.imports != mid.imports+1 {
		t.Errorf("a second import of February changed the data: %+v → %+v", mid, after)
	}
	if before.data == mid.data {
		t.Errorf("February changed nothing: %+v", mid)
	}
	hist2, err := org.Imports(ctx, pool, org.ImportKindListSizes, paging.Page{Number: 1, Size: 10})
	if err != nil || hist2.Total != 3 || hist2.Rows[0].FileName != "february.csv" || hist2.Rows[0].Counts["unchanged"] != known ||
		hist2.Rows[0].By != "the command line" || hist2.Rows[1].Counts["changed"] != 3 {
		t.Errorf("history of imports: %d, first %+v (%v)", hist2.Total, hist2.Rows[0].Counts, err)
	}
}

// A malformed file changes nothing, and names each bad row by line and
// column: a date that is not a date, a negative and a non-numeric size, a
// practice twice, and a second extract date.
func TestMalformedListSizeFileChangesNothingAndNamesEachBadRow(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	lines := nationalListSizes(t)
	bad := make([]string, len(lines))
	copy(bad, lines)
	set := func(line, field int, v string) {
		f := strings.Split(bad[line-1], ",")
		f[field] = v
		bad[line-1] = strings.Join(f, ",")
	}
	set(3, 1, "31FEB2021")                     // not a date
	set(5, 9, "-4")                            // negative
	set(7, 9, "lots")                          // not a number
	set(9, 5, strings.Split(lines[1], ",")[5]) // line 2's practice again
	set(11, 1, "01MAR2021")                    // another extract
	before := listSizeState(t, pool)
	_, err := importSizes(t, pool, time.Now(), "bad.csv", bad)
	var fe *org.ListSizeFileError
	if !errors.As(err, &fe) || !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("a malformed file: %v, want a ListSizeFileError", err)
	}
	want := []string{
		"line 3, column 2 (EXTRACT_DATE): \"31FEB2021\" is not a date like 01JAN2021",
		"line 5, column 10 (NUMBER_OF_PATIENTS): -4 is negative: a list size is 0 or more",
		"line 7, column 10 (NUMBER_OF_PATIENTS): \"lots\" is not a whole number of patients",
		"line 9, column 6 (CODE): A84002 is also on line 2; each practice may appear only once",
		"line 11, column 2 (EXTRACT_DATE): is 1 March 2021 but line 2 is 1 January 2021: a file holds one extract",
	}
	if len(fe.Errors) != len(want) {
		t.Fatalf("%d errors, want %d:\n%s", len(fe.Errors), len(want), err)
	}
	for i, w := range want {
		if got := fe.Errors[i].Error(); got != w {
			t.Errorf("error %d: %q, want %q", i, got, w)
		}
	}
	if after := listSizeState(t, pool); after != before {
		t.Errorf("a malformed file changed something: %+v → %+v", before, after)
	}

	// Not the all-patients file, and not a list-size file at all.
	for _, tc := range []struct{ name, file, want string }{
		{"ByAge", "PUBLICATION,EXTRACT_DATE,TYPE,CCG_CODE,ONS_CCG_CODE,CODE,POSTCODE,SEX,AGE,NUMBER_OF_PATIENTS\nGP_PRAC_PAT_LIST,01JAN2021,GP,00L,E38000130,A84002,NE65 7UW,MALE,0_4,120\n",
			"line 2, column 8 (SEX): is \"MALE\": this file breaks patients down by sex or age"},
		{"NotListSizes", "ORG_CODE,NAME\nA84002,X\n", "line 1: the header has no EXTRACT_DATE, CODE, NUMBER_OF_PATIENTS column"},
		{"Empty", "", "line 1: the file is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := org.NewStore(pool, time.Now).ImportListSizes(context.Background(), org.System(), "x.csv", bytes.NewBufferString(tc.file))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%q: %v, want %q", tc.file, err, tc.want)
			}
		})
	}
	if after := listSizeState(t, pool); after != before {
		t.Errorf("a refused file changed something: %+v → %+v", before, after)
	}
}
