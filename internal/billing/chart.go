package billing

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/money"
	"ccgtracker/internal/postgres"
)

// SupplierMonths is one supplier's total (payable, held and adjustments)
// in each month of a chart, in the months' order.
type SupplierMonths struct {
	Code, Name string
	Months     []money.Amount
	Total      money.Amount
}

// Chart is each supplier's total in each of months (oldest first), by
// total, largest first. It costs at most about one computed month, and
// nothing while the inputs stay as they were: closed months are summed
// in SQL from their frozen lines, open months come from the cache when
// they are there, and the rest from one pass over the instances live in
// any of them (each instance charged for each month), plus the first open
// month's adjustments.
func (s *Service) Chart(ctx context.Context, months []time.Time) ([]SupplierMonths, error) {
	v, err := s.Version(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, m := range months {
		names = append(names, m.Format("2006-01"))
	}
	// Open months already in the cache at this version: their supplier
	// totals, as they are.
	cachedMonths := map[time.Time]*Month{}
	s.mu.Lock()
	for _, m := range months {
		if el, ok := s.entries[cacheKey{what: "month", first: m, version: v}]; ok {
			cachedMonths[m] = el.Value.(*cacheEntry).value.(*Month)
		}
	}
	s.mu.Unlock()
	out, err := s.cached(ctx, cacheKey{what: "chart", months: strings.Join(names, ","), version: v}, func(ctx context.Context, tx pgx.Tx) (any, int64, error) {
		return computeChart(ctx, tx, months, cachedMonths)
	})
	if err != nil {
		return nil, err
	}
	return out.([]SupplierMonths), nil
}

func computeChart(ctx context.Context, tx pgx.Tx, months []time.Time, cachedMonths map[time.Time]*Month) (any, int64, error) {
	v, err := readVersion(ctx, tx)
	if err != nil {
		return nil, 0, err
	}
	st, err := ReadStatus(ctx, tx)
	if err != nil {
		return nil, 0, err
	}
	bySupplier := map[string]*SupplierMonths{}
	add := func(code, name string, i int, a money.Amount) {
		sp, ok := bySupplier[code]
		if !ok {
			sp = &SupplierMonths{Code: code, Name: name, Months: make([]money.Amount, len(months))}
			bySupplier[code] = sp
		}
		sp.Months[i] += a
		sp.Total += a
	}
	var closed []time.Time
	var open []int // indexes of months to compute
	for i, m := range months {
		if _, ok := st.Closed[m]; ok {
			closed = append(closed, m)
			continue
		}
		if c := cachedMonths[m]; c != nil && c.Version == v {
			for _, t := range c.BySupplier {
				add(t.Code, t.Name, i, t.Total())
			}
			continue
		}
		open = append(open, i)
	}
	if len(closed) > 0 {
		index := map[time.Time]int{}
		for i, m := range months {
			index[m] = i
		}
		rows, err := tx.Query(ctx, `
			SELECT b.period, si.supplier_id, s.name, sum(b.amount)::text
			FROM billing_lines b
			JOIN service_instances si ON si.id = b.instance_id
			JOIN suppliers s ON s.id = si.supplier_id
			WHERE b.period = ANY($1)
			GROUP BY 1, 2, 3`, closed)
		if err != nil {
			return nil, 0, fmt.Errorf("closed months' sums: %w", err)
		}
		var p time.Time
		var code, name, sum string
		if _, err := pgx.ForEachRow(rows, []any{&p, &code, &name, &sum}, func() error {
			a, err := money.Parse(sum)
			if err != nil {
				return err
			}
			add(code, name, index[p], a)
			return nil
		}); err != nil {
			return nil, 0, fmt.Errorf("closed months' sums: %w", err)
		}
	}
	if len(open) > 0 {
		if err := chartOpen(ctx, tx, months, open, st.FirstOpen, add); err != nil {
			return nil, 0, err
		}
	}
	all := make([]SupplierMonths, 0, len(bySupplier))
	for _, sp := range bySupplier {
		all = append(all, *sp)
	}
	slices.SortFunc(all, func(a, b SupplierMonths) int {
		if a.Total != b.Total {
			if a.Total > b.Total {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	return all, v, nil
}

// chartOpen charges, in one pass, every instance live in any of the open
// months for each of them, as computed charges it for one (linesOf: an
// instance outside a month's selection has no line in it), and adds the
// first open month's adjustments.
func chartOpen(ctx context.Context, db postgres.Querier, months []time.Time, open []int, firstOpen *time.Time, add func(code, name string, i int, a money.Amount)) error {
	from, to := months[open[0]], months[open[0]]
	for _, i := range open {
		from, to = minTime(from, months[i]), maxTime(to, months[i])
	}
	last := to.AddDate(0, 1, -1)
	// Each open month has its own list size in force: read, in one query,
	// every practice's size in force in each of them, before the pass.
	firsts := make([]time.Time, len(open))
	for k, i := range open {
		firsts[k] = months[i]
	}
	sizes, err := sizesInForce(ctx, db, firsts)
	if err != nil {
		return err
	}
	rows, err := db.Query(ctx, `
		SELECT si.supplier_id, s.name, si.unit_price::text, coalesce(si.time_unit, ''), si.quantity,
		       si.actual_m1, si.m2, si.cessation_date, si.practice_code, si.quantity_rule = 'list_size'
		FROM service_instances si
		JOIN suppliers s ON s.id = si.supplier_id
		WHERE si.actual_m1 <= $2 AND (si.cessation_date IS NULL OR si.cessation_date > $1 OR si.time_unit IS NULL OR si.m2 BETWEEN $1 AND $2)`,
		from, last)
	if err != nil {
		return fmt.Errorf("instances charged from %s to %s: %w", from.Format("2006-01"), to.Format("2006-01"), err)
	}
	defer rows.Close()
	var code, name, price, practice string
	var perPatient bool
	var c Charged
	var ordered int
	for rows.Next() {
		if err := rows.Scan(&code, &name, &price, &c.TimeUnit, &ordered, &c.ActualM1, &c.M2, &c.Cessation, &practice, &perPatient); err != nil {
			return err
		}
		if c.UnitPrice, err = money.Parse(price); err != nil {
			return err
		}
		for k, i := range open {
			c.Quantity = ordered
			if n, ok := sizes[sizeKey{practice, k}]; ok && perPatient {
				c.Quantity = n
			}
			for _, l := range linesOf(Line{Charged: c}, months[i]) {
				add(code, name, i, l.Amount)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()
	for _, i := range open {
		if firstOpen != nil && firstOpen.Equal(months[i]) {
			return adjustments(ctx, db, months[i], func(l Line) error {
				add(l.SupplierID, l.SupplierName, i, l.Amount)
				return nil
			})
		}
	}
	return nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// sizeKey is a practice and the index of a month in sizesInForce's list.
type sizeKey struct {
	practice string
	month    int
}

// sizesInForce is every practice's list size in force in each month of
// firsts (the latest extract dated on or before its 1st), as the engine's
// instanceJoins picks it for one month.
func sizesInForce(ctx context.Context, db postgres.Querier, firsts []time.Time) (map[sizeKey]int, error) {
	rows, err := db.Query(ctx, `
		SELECT DISTINCT ON (pls.practice_code, m.i) pls.practice_code, m.i::int - 1, pls.size
		FROM unnest($1::date[]) WITH ORDINALITY AS m(first, i)
		JOIN practice_list_sizes pls ON pls.extract_date <= m.first
		ORDER BY pls.practice_code, m.i, pls.extract_date DESC`, firsts)
	if err != nil {
		return nil, fmt.Errorf("list sizes in force: %w", err)
	}
	out := map[sizeKey]int{}
	var k sizeKey
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&k.practice, &k.month, &n}, func() error {
		out[k] = n
		return nil
	}); err != nil {
		return nil, fmt.Errorf("list sizes in force: %w", err)
	}
	return out, nil
}
