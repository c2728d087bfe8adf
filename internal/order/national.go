package order

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// SeedNationalOrders writes the synthetic call-off orders of the national
// data set (ledger.SeedNational at a scale above 1, which is given this
// function since order imports ledger): one completed order per CCG and
// supplier, ccgs[i] with suppliers[i], commencing on commencement and
// completed at now by the system, with no items: they hold the synthetic
// copies of the services, for the volume, not to be read as orders. It
// returns the new orders' ids, in the order of the pairs.
func SeedNationalOrders(ctx context.Context, tx pgx.Tx, now, commencement time.Time, ccgs, suppliers []string) ([]int64, error) {
	if len(ccgs) != len(suppliers) {
		return nil, fmt.Errorf("national orders: %d CCGs for %d suppliers", len(ccgs), len(suppliers))
	}
	rows, err := tx.Query(ctx, `
		INSERT INTO orders (order_number, revision, ccg_code, supplier_id, description, commencement_date,
			initial_period_months, maximum_term_months, status, completed_at, created_at)
		SELECT nextval('order_numbers'), 1, p.ccg_code, p.supplier_id, 'Synthetic copy of the national data (benchmark volume)',
		       $1::date, 12, 36, 'completed', $2, $2
		FROM unnest($3::text[], $4::text[]) WITH ORDINALITY AS p(ccg_code, supplier_id, n)
		ORDER BY p.n
		RETURNING id, ccg_code, supplier_id`, commencement, now, ccgs, suppliers)
	if err != nil {
		return nil, fmt.Errorf("national orders: %w", err)
	}
	made := map[[2]string]int64{}
	var id int64
	var ccg, supplier string
	if _, err := pgx.ForEachRow(rows, []any{&id, &ccg, &supplier}, func() error {
		made[[2]string{ccg, supplier}] = id
		return nil
	}); err != nil {
		return nil, fmt.Errorf("national orders: %w", err)
	}
	ids := make([]int64, len(ccgs))
	for i := range ccgs {
		ids[i] = made[[2]string{ccgs[i], suppliers[i]}]
	}
	return ids, nil
}
