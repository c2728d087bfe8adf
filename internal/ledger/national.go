package ledger

import (
	"context"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/dates"
)

// The history's change texts of the national data: they mark what
// SeedNational wrote, so that it runs once per database.
const (
	nationalActivation = "national data: service activated (synthetic)"
	nationalCessation  = "national data: service ceased (synthetic)"
	nationalCopy       = "national data: synthetic copy"
)

// nationalContinuityStart is when the national data's continuity
// agreements begin, as the demo's do.
var nationalContinuityStart = dates.Date(2020, 1, 1)

// SyntheticOrders writes the national data's synthetic orders, one per
// CCG and supplier (ccgs[i] with suppliers[i]), and returns their ids in
// the same order: order.SeedNationalOrders.
type SyntheticOrders func(ctx context.Context, tx pgx.Tx, now, commencement time.Time, ccgs, suppliers []string) ([]int64, error)

// SeedNational builds the national data set in tx, for the benchmark of
// the reconciliation (make bench) and for trying the finance pages on a
// realistic volume. It needs the reference data, and adds:
//
//   - the continuity services of every practice of the GP2GP mapping
//     (SeedDemoContinuity from 2020-01-01, which adds nothing when done);
//   - a year of activations: one practice in three (chosen by a hash of
//     its ODS code, so every run picks the same ones) gets one Additional
//     Service or Associated Service of its GP system's supplier, under
//     the practice's continuity agreement, planned then active, with its
//     actual M1 spread over the 12 months before now's month and up to
//     today, and M2 3 to 12 days later for about 85% of them (the rest
//     are held, not yet verified);
//   - a year of cessations: about one continuity service in ten ceases on
//     a day spread over the same year;
//   - when scale > 1, a synthetic copy: every service instance above is
//     copied scale-1 times (same practice, item, price and dates; new
//     ids), so a month has about scale times the lines. As a practice may
//     hold a service only once in its continuity agreement, the copies
//     belong to one synthetic completed call-off order per CCG and
//     supplier ("Synthetic copy of the national data"), with no order
//     items: they exist for the volume, not to be read as orders. The
//     order package writes those orders: orders is
//     order.SeedNationalOrders, given to SeedNational because order
//     imports ledger (an order's completion plans its services).
//
// Every instance gets its history, as Create and Change write it. It is
// set-based SQL, a few statements whatever the volume (seconds at ×10).
// It runs once per database: when the national data is there already it
// adds nothing (whatever the scale) and returns 0. Otherwise it returns
// how many service instances it added, continuity services included.
func SeedNational(ctx context.Context, tx pgx.Tx, now time.Time, files fs.FS, scale int, orders SyntheticOrders) (int, error) {
	if scale < 1 {
		return 0, fmt.Errorf("national data: scale %d: it must be 1 or more", scale)
	}
	var done bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM service_instance_history WHERE change = ANY($1))`,
		[]string{nationalActivation, nationalCessation, nationalCopy}).Scan(&done); err != nil {
		return 0, fmt.Errorf("national data: %w", err)
	}
	if done {
		// Not even the continuity services: those the cessations ended
		// would come back.
		return 0, nil
	}
	continuity, err := SeedDemoContinuity(ctx, tx, now, files, nationalContinuityStart)
	if err != nil {
		return 0, fmt.Errorf("national data: %w", err)
	}

	today := dates.Today(now)
	// The year: the 12 whole months before now's month, and now's month
	// up to today.
	yearStart := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(-1, 0, 0)
	// A demo item for each GP system: the continuity services are the
	// instances of these items under an agreement.
	gpItems := make([]string, 0, len(DemoContinuityItems))
	for _, id := range DemoContinuityItems {
		gpItems = append(gpItems, id)
	}

	// h(practice, salt) is a deterministic pseudo-random number in
	// [0, 2^31) from the practice's code: the same practices and dates on
	// every run and every machine.
	const h = `(('x' || substr(md5(%s || ':' || %s), 1, 8))::bit(32)::bigint %% 2147483648)`
	hash := func(col, salt string) string { return fmt.Sprintf(h, col, "'"+salt+"'") }

	// Activations: planned (history at M1 less a few weeks), then active.
	var activated int
	err = tx.QueryRow(ctx, fmt.Sprintf(`
		WITH cand AS (
			SELECT ci.id, ci.supplier_id, cp.price, pu.name AS unit, cp.time_unit,
			       pu.name ILIKE '%%patient%%' AS per_patient,
			       row_number() OVER (PARTITION BY ci.supplier_id ORDER BY ci.id) - 1 AS k,
			       count(*) OVER (PARTITION BY ci.supplier_id) AS n
			FROM catalogue_items ci
			JOIN LATERAL (SELECT price, pricing_unit_id, time_unit FROM catalogue_prices
			              WHERE item_id = ci.id ORDER BY id LIMIT 1) cp ON true
			JOIN pricing_units pu ON pu.id = cp.pricing_unit_id
			WHERE ci.kind IN ('additional', 'associated') AND ci.published
		), base AS (
			SELECT si.ccg_code, si.practice_code, si.supplier_id, si.agreement_id, coalesce(p.list_size, 0) AS list_size,
			       %[1]s AS pick, %[2]s AS which, %[3]s AS day, %[4]s AS lead, %[5]s AS verify
			FROM service_instances si
			JOIN practices p ON p.code = si.practice_code
			WHERE si.agreement_id IS NOT NULL AND si.catalogue_item_id = ANY($1) AND si.state = 'active'
		), chosen AS (
			SELECT b.*, c.id AS item, c.price, c.unit, c.time_unit, c.per_patient,
			       $2::date + (b.day %% ($3::date - $2::date + 1))::int AS m1
			FROM base b
			JOIN cand c ON c.supplier_id = b.supplier_id AND c.k = b.which %% c.n
			WHERE b.pick %% 3 = 0 AND NOT (c.per_patient AND b.list_size = 0)
		), ins AS (
			INSERT INTO service_instances (ccg_code, practice_code, catalogue_item_id, supplier_id, agreement_id,
				unit_price, pricing_unit, time_unit, quantity_rule, quantity, planned_m1, actual_m1, m2, state, created_at)
			SELECT ccg_code, practice_code, item, supplier_id, agreement_id, price, unit, time_unit,
			       CASE WHEN per_patient THEN 'list_size' ELSE 'fixed' END,
			       CASE WHEN per_patient THEN list_size ELSE 1 + verify %% 3 END,
			       m1 - (lead %% 21)::int, m1,
			       CASE WHEN verify %% 100 < 85 AND m1 + (3 + verify %% 10)::int <= $3::date THEN m1 + (3 + verify %% 10)::int END,
			       'active', $4
			FROM chosen
			ORDER BY practice_code
			ON CONFLICT DO NOTHING
			RETURNING id, planned_m1, actual_m1, m2, quantity
		), planned AS (
			INSERT INTO service_instance_history (instance_id, at, change, after)
			SELECT id, planned_m1::timestamp AT TIME ZONE 'UTC', $5,
			       jsonb_build_object('state', 'planned', 'planned_m1', to_char(planned_m1, 'YYYY-MM-DD'), 'quantity', quantity)
			FROM ins
		), active AS (
			INSERT INTO service_instance_history (instance_id, at, change, before, after)
			SELECT id, actual_m1::timestamp AT TIME ZONE 'UTC', $5,
			       jsonb_build_object('state', 'planned', 'planned_m1', to_char(planned_m1, 'YYYY-MM-DD'), 'quantity', quantity),
			       jsonb_strip_nulls(jsonb_build_object('state', 'active', 'planned_m1', to_char(planned_m1, 'YYYY-MM-DD'),
			           'actual_m1', to_char(actual_m1, 'YYYY-MM-DD'), 'm2', to_char(m2, 'YYYY-MM-DD'), 'quantity', quantity))
			FROM ins
		)
		SELECT count(*) FROM ins`,
		hash("p.code", "pick"), hash("p.code", "item"), hash("p.code", "m1"), hash("p.code", "lead"), hash("p.code", "m2")),
		gpItems, yearStart, today, now, nationalActivation).Scan(&activated)
	if err != nil {
		return 0, fmt.Errorf("national data: activations: %w", err)
	}

	// Cessations: one continuity service in ten ceases in the year.
	if _, err := tx.Exec(ctx, fmt.Sprintf(`
		WITH ceased AS (
			UPDATE service_instances si
			SET cessation_date = $2::date + (%[2]s %% ($3::date - $2::date + 1))::int,
			    state = 'ceased', version = version + 1
			WHERE si.agreement_id IS NOT NULL AND si.catalogue_item_id = ANY($1) AND si.state = 'active'
			  AND si.cessation_date IS NULL AND %[1]s %% 10 = 0
			RETURNING si.id, si.actual_m1, si.m2, si.cessation_date, si.quantity
		)
		INSERT INTO service_instance_history (instance_id, at, change, before, after)
		SELECT id, cessation_date::timestamp AT TIME ZONE 'UTC', $4,
		       jsonb_build_object('state', 'active', 'actual_m1', to_char(actual_m1, 'YYYY-MM-DD'),
		           'm2', to_char(m2, 'YYYY-MM-DD'), 'quantity', quantity),
		       jsonb_build_object('state', 'ceased', 'actual_m1', to_char(actual_m1, 'YYYY-MM-DD'),
		           'm2', to_char(m2, 'YYYY-MM-DD'), 'cessation', to_char(cessation_date, 'YYYY-MM-DD'), 'quantity', quantity)
		FROM ceased`, hash("si.practice_code", "cease"), hash("si.practice_code", "ceased on")),
		gpItems, yearStart, today, nationalCessation); err != nil {
		return 0, fmt.Errorf("national data: cessations: %w", err)
	}

	added := continuity + activated
	if scale == 1 {
		return added, nil
	}

	// The synthetic copy: one completed order per CCG and supplier holds
	// the copies of its instances; the order package writes the orders.
	rows, err := tx.Query(ctx, `SELECT DISTINCT ccg_code, supplier_id FROM service_instances WHERE order_id IS NULL ORDER BY 1, 2`)
	if err != nil {
		return 0, fmt.Errorf("national data: synthetic copy: %w", err)
	}
	var ccgs, suppliers []string
	var ccg, supplier string
	if _, err := pgx.ForEachRow(rows, []any{&ccg, &supplier}, func() error {
		ccgs, suppliers = append(ccgs, ccg), append(suppliers, supplier)
		return nil
	}); err != nil {
		return 0, fmt.Errorf("national data: synthetic copy: %w", err)
	}
	orderIDs, err := orders(ctx, tx, now, yearStart, ccgs, suppliers)
	if err != nil {
		return 0, fmt.Errorf("national data: synthetic copy: %w", err)
	}
	var copies int
	err = tx.QueryRow(ctx, `
		WITH src AS (
			SELECT * FROM service_instances WHERE order_id IS NULL
		), orders_made AS (
			SELECT * FROM unnest($4::bigint[], $5::text[], $6::text[]) AS o(id, ccg_code, supplier_id)
		), ins AS (
			INSERT INTO service_instances (ccg_code, practice_code, catalogue_item_id, supplier_id, order_id,
				unit_price, pricing_unit, time_unit, quantity_rule, quantity, planned_m1, actual_m1, m2, cessation_date, state, created_at)
			SELECT s.ccg_code, s.practice_code, s.catalogue_item_id, s.supplier_id, o.id,
			       s.unit_price, s.pricing_unit, s.time_unit, s.quantity_rule, s.quantity, s.planned_m1, s.actual_m1, s.m2,
			       s.cessation_date, s.state, $1
			FROM src s
			JOIN orders_made o ON o.ccg_code = s.ccg_code AND o.supplier_id = s.supplier_id
			CROSS JOIN generate_series(1, $2::int - 1) AS copy(n)
			ORDER BY copy.n, s.id
			RETURNING id, state, planned_m1, actual_m1, m2, cessation_date, quantity
		), hist AS (
			INSERT INTO service_instance_history (instance_id, at, change, after)
			SELECT id, $1, $3, jsonb_strip_nulls(jsonb_build_object('state', state,
			           'planned_m1', to_char(planned_m1, 'YYYY-MM-DD'), 'actual_m1', to_char(actual_m1, 'YYYY-MM-DD'),
			           'm2', to_char(m2, 'YYYY-MM-DD'), 'cessation', to_char(cessation_date, 'YYYY-MM-DD'), 'quantity', quantity))
			FROM ins
		)
		SELECT count(*) FROM ins`, now, scale, nationalCopy, orderIDs, ccgs, suppliers).Scan(&copies)
	if err != nil {
		return 0, fmt.Errorf("national data: synthetic copy ×%d: %w", scale, err)
	}
	return added + copies, nil
}
