package ledger_test

import (
	"context"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"ccgtracker/internal/ledger"
	"ccgtracker/internal/order"
	"ccgtracker/internal/org"
	"ccgtracker/internal/paging"
	"ccgtracker/internal/postgres"
	"ccgtracker/internal/postgres/pgtest"
	"ccgtracker/internal/refdata"
)

func seedNational(t *testing.T, pool *pgxpool.Pool, scale int) int {
	t.Helper()
	var added int
	err := postgres.Tx(context.Background(), pool, func(tx pgx.Tx) error {
		var err error
		added, err = ledger.SeedNational(context.Background(), tx, now, refdata.FS(), scale, order.SeedNationalOrders)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return added
}

func TestSeedNational(t *testing.T) {
	t.Parallel()
	one, two := pgtest.New(t), pgtest.New(t)

	added := seedNational(t, one, 1)
	continuity := count(t, one, `SELECT count(*) FROM service_instances WHERE catalogue_item_id IN ('10000-001', '10052-002')`)
	activated := count(t, one, `SELECT count(*) FROM service_instances WHERE catalogue_item_id NOT IN ('10000-001', '10052-002')`)
	ceased := count(t, one, `SELECT count(*) FROM service_instances WHERE state = 'ceased'`)
	t.Logf("×1: %d instances: %d continuity (%d ceased), %d activated", added, continuity, ceased, activated)
	if continuity < 5000 || added != continuity+activated {
		t.Fatalf("×1: added %d, with %d continuity and %d activated services", added, continuity, activated)
	}
	// One practice in three gets a service; one continuity service in ten ceases.
	if activated < continuity/4 || activated > continuity/2 {
		t.Errorf("%d activations for %d continuity services: want about a third", activated, continuity)
	}
	if ceased < continuity/20 || ceased > continuity/5 {
		t.Errorf("%d cessations of %d continuity services: want about a tenth", ceased, continuity)
	}
	// Every activation and cessation is in the year before now, after its M1.
	if n := count(t, one, `
		SELECT count(*) FROM service_instances
		WHERE (catalogue_item_id NOT IN ('10000-001', '10052-002') AND actual_m1 NOT BETWEEN '2025-11-01' AND '2026-11-24')
		   OR (cessation_date IS NOT NULL AND cessation_date NOT BETWEEN '2025-11-01' AND '2026-11-24')
		   OR m2 > '2026-11-24' OR m2 < actual_m1`); n != 0 {
		t.Errorf("%d instances with dates outside the year", n)
	}
	if n := count(t, one, `SELECT count(*) FROM service_instances si WHERE NOT EXISTS
		(SELECT 1 FROM service_instance_history h WHERE h.instance_id = si.id)`); n != 0 {
		t.Errorf("%d instances without history", n)
	}
	if again := seedNational(t, one, 1); again != 0 {
		t.Errorf("seeding again added %d instances, want 0", again)
	}

	// ×2: the same data, each instance once more under a synthetic order.
	if added2 := seedNational(t, two, 2); added2 != 2*added {
		t.Errorf("×2 added %d instances, want 2 × %d", added2, added)
	}
	if n := count(t, two, `SELECT count(*) FROM service_instances WHERE order_id IS NOT NULL`); n != added {
		t.Errorf("×2: %d copies, want %d", n, added)
	}
	// The same practices, items and dates as ×1, twice.
	const shape = `SELECT count(*) FROM (SELECT practice_code, catalogue_item_id, actual_m1, m2, cessation_date, count(*)
		FROM service_instances GROUP BY 1, 2, 3, 4, 5) g WHERE count = $1`
	if a, b := count(t, one, shape, 1), count(t, two, shape, 2); a != b || a < added*9/10 {
		t.Errorf("×1 has %d distinct services, ×2 has %d twice", a, b)
	}
}

// List pages a big CCG's ledger from per-practice counts: page after page,
// at sizes that split practices, it gives exactly the rows of one query
// sorting the whole ledger by practice name, practice, item name and id,
// under each filter.
func TestListPagesTheWholeLedgerInOrder(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	ctx := context.Background()
	seedNational(t, pool, 1)
	const ccg = "W2U3Z" // the CCG with the most services
	for _, f := range []ledger.Filter{{}, {State: ledger.Ceased}, {Practice: "e84002"}} {
		rows, err := pool.Query(ctx, `
			SELECT si.id FROM service_instances si
			JOIN practices p ON p.code = si.practice_code JOIN catalogue_items ci ON ci.id = si.catalogue_item_id
			WHERE si.ccg_code = $1 AND ($2 = '' OR si.state = $2) AND ($3 = '' OR si.practice_code = upper($3))
			ORDER BY p.name, si.practice_code, ci.name, si.id`, ccg, string(f.State), f.Practice)
		if err != nil {
			t.Fatal(err)
		}
		want, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			t.Fatal(err)
		}
		if len(want) < 2 {
			t.Fatalf("filter %+v: only %d instances to page", f, len(want))
		}
		for _, size := range []int{1, 7, 25} {
			var got []int64
			for n := 1; n <= len(want)/size+2; n++ {
				res, err := ledger.List(ctx, pool, org.AllCCGs(), ccg, f, paging.Page{Number: n, Size: size})
				if err != nil {
					t.Fatal(err)
				}
				if res.Total != len(want) {
					t.Fatalf("filter %+v, page %d of %d: total %d, want %d", f, n, size, res.Total, len(want))
				}
				if len(res.Rows) > size {
					t.Fatalf("filter %+v, page %d of %d: %d rows", f, n, size, len(res.Rows))
				}
				for _, i := range res.Rows {
					got = append(got, i.ID)
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("filter %+v, pages of %d: %d rows, want %d in the ledger's order", f, size, len(got), len(want))
			}
		}
	}
}
