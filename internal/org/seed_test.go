package org_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/org"
	"ccgtracker/internal/postgres"
	"ccgtracker/internal/postgres/pgtest"
	"ccgtracker/internal/refdata"
)

// The template database is seeded already; seeding again must add nothing.
func TestSeedIsIdempotentAndComplete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)

	var again org.SeedCounts
	err := postgres.Tx(ctx, pool, func(tx pgx.Tx) (err error) {
		again, err = org.SeedReference(ctx, tx, refdata.FS())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if again != (org.SeedCounts{}) {
		t.Errorf("a second seed added rows: %s", again)
	}

	counts := map[string]int{
		"SELECT count(*) FROM regions":                                   7,
		"SELECT count(*) FROM ccgs":                                      106,
		"SELECT count(*) FROM practices":                                 6527,
		"SELECT count(*) FROM suppliers":                                 74,
		"SELECT count(*) FROM catalogue_items":                           117,
		"SELECT count(*) FROM catalogue_prices":                          115,
		"SELECT count(*) FROM catalogue_items WHERE kind = 'additional'": countAdditional(t),
		"SELECT count(*) FROM practices WHERE list_size IS NOT NULL":     6523,
		"SELECT count(*) FROM practices WHERE ccg_code = '16C'":          81,
	}
	for q, want := range counts {
		var got int
		if err := pool.QueryRow(ctx, q).Scan(&got); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if got != want {
			t.Errorf("%s = %d, want %d", q, got, want)
		}
	}

	// Spot checks against the source files.
	var name, region string
	var day int
	if err := pool.QueryRow(ctx, `SELECT c.name, r.name, r.due_day FROM ccgs c JOIN regions r ON r.code = c.region_code WHERE c.code = '16C'`).Scan(&name, &region, &day); err != nil {
		t.Fatal(err)
	}
	if name != "NHS Tees Valley CCG" || region != "North East and Yorkshire" || day != 20 {
		t.Errorf("16C = %q in %q due day %d", name, region, day)
	}
	var price string
	if err := pool.QueryRow(ctx, `SELECT price::text FROM catalogue_prices WHERE item_id = '10000-001'`).Scan(&price); err != nil {
		t.Fatal(err)
	}
	if price != "1.2600" {
		t.Errorf("Emis Web GP price = %s, want 1.2600", price)
	}
	var open string
	if err := pool.QueryRow(ctx, `SELECT open_date::text FROM practices WHERE code = 'A81001'`).Scan(&open); err != nil {
		t.Fatal(err)
	}
	if open != "1974-04-01" {
		t.Errorf("A81001 open date = %s, want 1974-04-01 from epraccur", open)
	}
}

func countAdditional(t *testing.T) int {
	t.Helper()
	rows, err := org.ReadItemTypes()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range rows {
		if r == "2" {
			n++
		}
	}
	return n
}
