package tracker_test

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"ccgtracker/internal/org"
	"ccgtracker/internal/postgres/pgtest"
	"ccgtracker/internal/tracker"
)

func TestReviewChecks(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// The GP clinical systems of the continuity services are on frameworks
	// in force in the catalogue (Tech Innovation, Advanced Telephony), and
	// so, by its parent, is an Additional Service of one; Anywhere Consult
	// (the order's) is made to be on GP IT Futures alone, which is expired.
	_, err := f.pool.Exec(ctx, `
		WITH gone AS (DELETE FROM framework_solutions WHERE item_id = '10000-002')
		INSERT INTO framework_solutions (framework_id, item_id) VALUES ('NHSDGP001', '10000-002')`)
	must(t, err)
	var additional string
	must(t, f.pool.QueryRow(ctx, `
		UPDATE service_instances si SET catalogue_item_id = (SELECT min(id) FROM catalogue_items WHERE parent_id = si.catalogue_item_id)
		WHERE agreement_id IS NOT NULL AND practice_code = 'A81002'
		RETURNING 'SI' || id || '-' || practice_code`).Scan(&additional))

	// A81001 loses both its services; A81002 keeps its planned one.
	must(t, f.add(tracker.LineInput{Kind: tracker.Cessation, Practice: "A81001", Instance: f.live, Date: day(2026, 11, 20)}))
	must(t, f.add(tracker.LineInput{Kind: tracker.Cancellation, Practice: "A81001", Instance: f.planned[0], Date: day(2026, 11, 21)}))
	must(t, f.add(tracker.LineInput{Kind: tracker.Cessation, Practice: "A81002", Instance: additional, Date: day(2026, 11, 22)}))
	must(t, f.add(tracker.LineInput{Kind: tracker.Activation, Practice: "A81004", Instance: f.planned[2], Date: day(2026, 11, 23)}))
	r := f.ret()
	checks, err := tracker.ReviewChecks(ctx, f.pool, r)
	must(t, err)

	const offFramework, leftEmpty = "is on no framework in force: it is only on a GPSoC Transition Assistance Notice", "would be left with no planned or active service"
	cases := []struct {
		name     string
		line     int
		want     []string
		dontWant []string
	}{
		{"CessationOnFrameworkLeavesPracticeEmpty", 0, []string{leftEmpty}, []string{offFramework}},
		{"CancellationOffFrameworkLeavesPracticeEmpty", 1, []string{offFramework, "Anywhere Consult (10000-002)", leftEmpty}, nil},
		{"AdditionalServiceCountsByItsParent", 2, nil, []string{offFramework, leftEmpty}},
		{"ActivationOffFrameworkTakesNothingAway", 3, []string{offFramework}, []string{leftEmpty}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := strings.Join(checks[r.Lines[c.line].ID], " | ")
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("%s: checks %q, want %q", c.name, got, w)
				}
			}
			for _, w := range c.dontWant {
				if strings.Contains(got, w) {
					t.Errorf("%s: checks %q, want no %q", c.name, got, w)
				}
			}
		})
	}
}

func TestReviewChecksOfAMerger(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	must(t, f.add(tracker.LineInput{Kind: tracker.Merger, Practice: "A81001", Targets: []string{"A81002"}, Date: day(2026, 11, 30)}))
	r := f.ret()
	checks, err := tracker.ReviewChecks(ctx, f.pool, r)
	must(t, err)
	if got := strings.Join(checks[r.Lines[0].ID], " | "); !strings.Contains(got, "as expected of a practice that merged") {
		t.Errorf("merger checks: %q", got)
	}
}

// A change dated in a month finance has closed is flagged: accepting it
// will make an adjustment.
func TestReviewChecksOfAClosedMonth(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	must(t, f.add(tracker.LineInput{Kind: tracker.Activation, Practice: "A81001", Instance: f.planned[0], Date: day(2026, 11, 3)}))
	if _, err := f.pool.Exec(ctx, `INSERT INTO billing_months (period, closed_at) VALUES ('2026-11-01', now())`); err != nil {
		t.Fatal(err)
	}
	r := f.ret()
	checks, err := tracker.ReviewChecks(ctx, f.pool, r)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range checks[r.Lines[0].ID] {
		found = found || strings.Contains(c, "November 2026, a billing month finance has closed")
	}
	if !found {
		t.Errorf("checks %v lack the closed month", checks)
	}
}

// A normal return, the GP systems of the continuity agreements ceased and
// verified, raises no framework warning: they are on frameworks in force.
func TestReviewChecksOfANormalReturnRaiseNoFrameworkWarning(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// A normal return: GP systems (EMIS and TPP, the continuity services)
	// and an Additional Service of one.
	_, err := f.pool.Exec(ctx, `
		UPDATE service_instances si SET catalogue_item_id = (SELECT min(id) FROM catalogue_items WHERE parent_id = si.catalogue_item_id)
		WHERE id = (SELECT min(id) FROM service_instances WHERE agreement_id IS NOT NULL AND ccg_code = '16C' AND catalogue_item_id = '10052-002')`)
	must(t, err)
	rows, err := f.pool.Query(ctx, `SELECT DISTINCT ON (si.catalogue_item_id) 'SI' || si.id || '-' || si.practice_code, si.practice_code
		FROM service_instances si
		WHERE si.agreement_id IS NOT NULL AND si.ccg_code = '16C'
		ORDER BY si.catalogue_item_id, si.practice_code`)
	must(t, err)
	type svc struct{ Ref, Practice string }
	list, err := pgx.CollectRows(rows, pgx.RowToStructByPos[svc])
	must(t, err)
	for i, s := range list {
		must(t, f.add(tracker.LineInput{Kind: tracker.Cessation, Practice: s.Practice, Instance: s.Ref, Date: day(2026, 11, 10+i)}))
	}
	r := f.ret()
	if len(r.Lines) != len(list) || len(list) == 0 {
		t.Fatalf("%d lines of %d services", len(r.Lines), len(list))
	}
	items := map[string]bool{}
	for _, l := range r.Lines {
		items[l.ItemName] = true
	}
	if len(items) < 3 {
		t.Fatalf("the return's lines are about %v, want the two GP systems and an Additional Service", items)
	}
	checks, err := tracker.ReviewChecks(ctx, f.pool, r)
	must(t, err)
	for _, l := range r.Lines {
		for _, c := range checks[l.ID] {
			if strings.Contains(c, "framework") {
				t.Errorf("line %s of %s: %q", l.Kind, l.InstanceRef, c)
			}
		}
	}
	// And no GP system of the catalogue's two continuity suppliers, nor
	// any of their Additional Services, is on no framework in force.
	var off []string
	rows, err = f.pool.Query(ctx, `
		SELECT ci.id FROM catalogue_items ci
		WHERE coalesce(ci.parent_id, ci.id) IN ('10000-001', '10052-002')
		  AND NOT EXISTS (SELECT 1 FROM framework_solutions fs JOIN frameworks fw ON fw.id = fs.framework_id
		                  WHERE NOT fw.expired AND fs.item_id = coalesce(ci.parent_id, ci.id))`)
	must(t, err)
	off, err = pgx.CollectRows(rows, pgx.RowTo[string])
	must(t, err)
	if len(off) > 0 {
		t.Errorf("items of the GP systems on no framework in force: %v", off)
	}
}

// The checks cost the same few queries for a return of 3 lines as for
// one of 65 lines across as many practices.
func TestReviewChecksQueriesDoNotGrowWithLines(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var ccg string
	must(t, f.pool.QueryRow(ctx, `SELECT ccg_code FROM service_instances WHERE state = 'active'
		GROUP BY ccg_code HAVING count(DISTINCT practice_code) >= 65 ORDER BY ccg_code LIMIT 1`).Scan(&ccg))
	// One cessation of a live service at each of 65 practices, and a
	// closed month, so that every check has something to say.
	_, err := f.pool.Exec(ctx, `
		INSERT INTO return_lines (return_id, kind, practice_code, instance_id, effective_date, created_at)
		SELECT tr.id, 'cessation', si.practice_code, si.id, '2026-11-20', now()
		FROM tracker_returns tr,
		     (SELECT DISTINCT ON (practice_code) id, practice_code FROM service_instances
		      WHERE ccg_code = $1 AND state = 'active' ORDER BY practice_code, id LIMIT 65) si
		WHERE tr.ccg_code = $1 AND tr.period = '2026-11-01'`, ccg)
	must(t, err)
	_, err = f.pool.Exec(ctx, `INSERT INTO billing_months (period, closed_at) VALUES ('2026-11-01', now())`)
	must(t, err)
	r, err := tracker.Get(ctx, f.pool, org.AllCCGs(), ccg, november)
	must(t, err)
	if len(r.Lines) != 65 {
		t.Fatalf("%d lines, want 65", len(r.Lines))
	}
	short := r
	short.Lines = r.Lines[:3]

	counted, queries := pgtest.Open(t, f.url, func(*pgxpool.Config) {})
	costOf := func(ret tracker.Return) (int64, map[int64][]string) {
		before := queries.Count()
		checks, err := tracker.ReviewChecks(ctx, counted, ret)
		must(t, err)
		return queries.Count() - before, checks
	}
	few, _ := costOf(short)
	many, checks := costOf(r)
	if few != many || many > 5 {
		t.Errorf("checks of 3 lines: %d queries; of 65 lines: %d (want the same, and few)", few, many)
	}
	// They did their work: every line is dated in the closed month.
	for _, l := range r.Lines {
		if len(checks[l.ID]) == 0 {
			t.Errorf("line %d has no checks", l.ID)
		}
	}
	t.Logf("queries for 3 lines: %d, for 65 lines: %d", few, many)
}
