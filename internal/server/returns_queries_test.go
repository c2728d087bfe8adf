package server

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"ccgtracker/internal/dates"
	"ccgtracker/internal/ledger"
	"ccgtracker/internal/org"
	"ccgtracker/internal/postgres"
	"ccgtracker/internal/postgres/pgtest"
	"ccgtracker/internal/refdata"
	"ccgtracker/internal/tracker"
)

// The reviewer's page of a return costs the same queries for 3 lines as
// for 65 lines across 65 practices: nothing is read per line or per
// practice (issue 10: a 123-line return made 126).
func TestReturnReviewQueriesDoNotGrowWithLines(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, dbURL := pgtest.NewWithURL(t)
	pool, queries := pgtest.Open(t, dbURL, func(*pgxpool.Config) {})
	app := newTestAppOn(t, pool, nil)
	if err := postgres.Tx(ctx, pool, func(tx pgx.Tx) error {
		_, err := ledger.SeedDemoContinuity(ctx, tx, time.Now(), refdata.FS(), dates.Date(2020, 1, 1))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	nov, _ := tracker.ParsePeriod("2026-11")
	if _, err := tracker.NewStore(pool, time.Now).Issue(ctx, org.System(), nov); err != nil {
		t.Fatal(err)
	}
	var big string
	if err := pool.QueryRow(ctx, `SELECT ccg_code FROM service_instances WHERE state = 'active' AND ccg_code <> '16C'
		GROUP BY ccg_code HAVING count(DISTINCT practice_code) >= 65 ORDER BY ccg_code LIMIT 1`).Scan(&big); err != nil {
		t.Fatal(err)
	}
	// A submitted return of n lines: a cessation of a live service at
	// each of n practices.
	submitted := func(ccg string, n int) string {
		t.Helper()
		tag, err := pool.Exec(ctx, `
			INSERT INTO return_lines (return_id, kind, practice_code, instance_id, effective_date, created_at)
			SELECT tr.id, 'cessation', si.practice_code, si.id, '2026-11-20', now()
			FROM tracker_returns tr,
			     (SELECT DISTINCT ON (practice_code) id, practice_code FROM service_instances
			      WHERE ccg_code = $1 AND state = 'active' ORDER BY practice_code, id LIMIT $2) si
			WHERE tr.ccg_code = $1 AND tr.period = '2026-11-01'`, ccg, n)
		if err != nil || tag.RowsAffected() != int64(n) {
			t.Fatalf("lines of %s: %v, %d of %d", ccg, err, tag.RowsAffected(), n)
		}
		if _, err := pool.Exec(ctx, `UPDATE tracker_returns SET status = 'submitted', submitted_at = now()
			WHERE ccg_code = $1 AND period = '2026-11-01'`, ccg); err != nil {
			t.Fatal(err)
		}
		return "/ccgs/" + ccg + "/returns/2026-11/review"
	}
	short, long := submitted("16C", 3), submitted(big, 65)

	c := app.client()
	c.signIn("reviewer@example.nhs.uk")
	cost := func(path string) int64 {
		t.Helper()
		before := queries.Count()
		resp := c.get(path)
		body := text(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d: %s", path, resp.StatusCode, body)
		}
		return queries.Count() - before
	}
	cost(short) // the first request of a session may settle it
	few, many := cost(short), cost(long)
	if few != many {
		t.Errorf("review page of 3 lines: %d queries; of 65 lines: %d", few, many)
	}
	if many > 20 {
		t.Errorf("review page: %d queries, want at most 20", many)
	}
	t.Logf("review page queries: 3 lines %d, 65 lines %d", few, many)
}
