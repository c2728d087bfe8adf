package billing

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/dates"
	"ccgtracker/internal/money"
	"ccgtracker/internal/postgres"
)

// Kinds of line.
const (
	KindCharge     = "charge"
	KindRelease    = "release"
	KindAdjustment = "adjustment"
)

// Line is one row of a month's reconciliation.
type Line struct {
	Kind         string
	Period       time.Time
	Corrects     *time.Time // the closed month an adjustment corrects
	InstanceID   int64
	InstanceRef  string
	Source       string // call-off ID, or "Continuity agreement"
	CCGCode      string
	CCGName      string
	PracticeCode string
	PracticeName string
	SupplierID   string
	SupplierName string
	ProductID    string
	ProductName  string
	ProductType  string
	Unit         string // unit of order: "per patient"
	TimeUnit     string // month, year, one-off
	Quantity     int
	Price        money.Amount
	DaysCharged  int
	DaysInMonth  int
	Amount       money.Amount
	Payable      bool
	ActualM1     *time.Time
	M2           *time.Time
	Cessation    *time.Time
	Charged      Charged // the inputs of the rule, to explain the line
}

// QuantitySource says where a line's quantity came from, in words: the
// list-size extract in force ("list of 1 January 2021"), or the order's
// own quantity.
func (l Line) QuantitySource() string {
	switch {
	case l.Charged.ListDate != nil:
		return "list of " + l.Charged.ListDate.Format("2 January 2006")
	case l.Charged.PerPatient:
		return "as ordered (no list size on or before the month)"
	}
	return "as ordered"
}

// instanceQuery is an instance with everything a line shows, its
// per-patient quantity the list size in force on month (an SQL date
// expression: "$1", "bm.period"); its columns and joins also serve
// frozen, joined to the frozen lines.
func instanceQuery(month string) string {
	return `SELECT ` + instanceColumns + ` FROM service_instances si` + instanceJoins(month)
}

const instanceColumns = `si.id, si.practice_code, coalesce(o.call_off_id, 'Continuity agreement'),
	       si.ccg_code, c.name, p.name, si.supplier_id, s.name, si.catalogue_item_id, ci.name, ci.kind,
	       coalesce(pu.description, si.pricing_unit), coalesce(si.time_unit, ''),
	       coalesce(ls.size, si.quantity),
	       si.unit_price::text, si.actual_m1, si.m2, si.cessation_date, si.quantity_rule = 'list_size', ls.extract_date`

// instanceJoins are the tables a line shows, and the list size in force
// on month for a per-patient price (DOMAIN.md §8): the practice's latest
// extract dated on or before the 1st of the month, one probe of
// practice_list_sizes' primary key per instance, in the same pass. Before
// the first extract there is none, and the order's own quantity is used.
func instanceJoins(month string) string {
	return `
	JOIN ccgs c ON c.code = si.ccg_code
	JOIN practices p ON p.code = si.practice_code
	JOIN suppliers s ON s.id = si.supplier_id
	JOIN catalogue_items ci ON ci.id = si.catalogue_item_id
	LEFT JOIN orders o ON o.id = si.order_id
	LEFT JOIN LATERAL (SELECT description FROM pricing_units WHERE name = si.pricing_unit ORDER BY id LIMIT 1) pu ON true
	LEFT JOIN LATERAL (SELECT size, extract_date FROM practice_list_sizes
		WHERE si.quantity_rule = 'list_size' AND practice_code = si.practice_code AND extract_date <= ` + month + `
		ORDER BY extract_date DESC LIMIT 1) ls ON true`
}

// frozenJoins are instanceJoins for a frozen line, whose quantity and
// extract are its own (b.quantity, b.list_size_date): no probe.
const frozenJoins = `
	JOIN ccgs c ON c.code = si.ccg_code
	JOIN practices p ON p.code = si.practice_code
	JOIN suppliers s ON s.id = si.supplier_id
	JOIN catalogue_items ci ON ci.id = si.catalogue_item_id
	LEFT JOIN orders o ON o.id = si.order_id
	LEFT JOIN LATERAL (SELECT description FROM pricing_units WHERE name = si.pricing_unit ORDER BY id LIMIT 1) pu ON true
	LEFT JOIN LATERAL (SELECT NULL::int AS size, NULL::date AS extract_date) ls ON true`

func scanInstance(rows pgx.Rows) (Line, error) {
	var l Line
	var price string
	var perPatient bool
	var listDate *time.Time
	err := rows.Scan(&l.InstanceID, &l.PracticeCode, &l.Source, &l.CCGCode, &l.CCGName, &l.PracticeName, &l.SupplierID,
		&l.SupplierName, &l.ProductID, &l.ProductName, &l.ProductType, &l.Unit, &l.TimeUnit, &l.Quantity, &price,
		&l.ActualM1, &l.M2, &l.Cessation, &perPatient, &listDate)
	if err != nil {
		return l, err
	}
	if l.Price, err = money.Parse(price); err != nil {
		return l, err
	}
	l.InstanceRef = instanceRef(l.InstanceID, l.PracticeCode)
	l.Charged = Charged{UnitPrice: l.Price, TimeUnit: l.TimeUnit, Quantity: l.Quantity, ActualM1: l.ActualM1, M2: l.M2, Cessation: l.Cessation,
		PerPatient: perPatient, ListDate: listDate}
	if l.TimeUnit == "" {
		l.TimeUnit = "one-off"
	}
	return l, nil
}

// Filter narrows a month's lines.
type Filter struct {
	Supplier, CCG, Product string
	State                  string // "payable", "held", or ""
}

func (f Filter) keeps(l Line) bool {
	return f.admits(l.SupplierID, l.CCGCode, l.ProductID, l.Payable)
}

// admits is the filter's rule, on the four things it looks at.
func (f Filter) admits(supplier, ccg, product string, payable bool) bool {
	switch {
	case f.Supplier != "" && supplier != f.Supplier,
		f.CCG != "" && ccg != f.CCG,
		f.Product != "" && product != f.Product,
		f.State == "payable" && !payable,
		f.State == "held" && payable:
		return false
	}
	return true
}

// ParseFilter is a filter as asked for; a state other than payable or
// held asks for both.
func ParseFilter(supplier, ccg, product, state string) Filter {
	f := Filter{Supplier: supplier, CCG: ccg, Product: product, State: state}
	if f.State != "payable" && f.State != "held" {
		f.State = ""
	}
	return f
}

// instanceRef is how a service is named to people: SI12-A81001.
func instanceRef(id int64, practice string) string {
	return "SI" + strconv.FormatInt(id, 10) + "-" + practice
}

// Each calls fn with every line of the month starting first, one at a
// time as the rows arrive, so memory stays flat however many there are: a
// closed month's frozen lines, or an open month's lines computed from the
// ledger as it is now (with the adjustments to closed months when it is
// the first open month).
func Each(ctx context.Context, db postgres.Querier, first time.Time, f Filter, fn func(Line) error) error {
	closed, err := isClosed(ctx, db, first)
	if err != nil {
		return err
	}
	emit := func(l Line) error {
		if f.keeps(l) {
			return fn(l)
		}
		return nil
	}
	if closed {
		return frozen(ctx, db, first, emit)
	}
	if err := computed(ctx, db, first, emit); err != nil {
		return err
	}
	firstOpen, err := FirstOpen(ctx, db)
	if err != nil {
		return err
	}
	if firstOpen != nil && firstOpen.Equal(first) {
		return adjustments(ctx, db, first, emit)
	}
	return nil
}

// Lines returns every line of a month: for tests and small months.
func Lines(ctx context.Context, db postgres.Querier, first time.Time, f Filter) ([]Line, error) {
	var out []Line
	err := Each(ctx, db, first, f, func(l Line) error {
		out = append(out, l)
		return nil
	})
	return out, err
}

// computed charges every instance live in the month, and releases the
// held amounts of instances whose M2 falls in it.
func computed(ctx context.Context, db postgres.Querier, first time.Time, emit func(Line) error) error {
	last := first.AddDate(0, 1, -1)
	rows, err := db.Query(ctx, instanceQuery("$1")+`
		WHERE si.actual_m1 <= $2 AND (si.cessation_date IS NULL OR si.cessation_date > $1 OR si.time_unit IS NULL OR si.m2 BETWEEN $1 AND $2)
		ORDER BY si.supplier_id, si.ccg_code, si.practice_code, si.id`, first, last)
	if err != nil {
		return fmt.Errorf("instances charged in %s: %w", first.Format("2006-01"), err)
	}
	defer rows.Close()
	for rows.Next() {
		l, err := scanInstance(rows)
		if err != nil {
			return err
		}
		for _, line := range linesOf(l, first) {
			if err := emit(line); err != nil {
				return err
			}
		}
	}
	return rows.Err()
}

// linesOf is what one instance contributes to a month: its charge, and the
// release of what was held in earlier months when M2 falls in this one.
func linesOf(l Line, first time.Time) []Line {
	var out []Line
	if ch, ok := ChargeFor(l.Charged, first); ok {
		c := l
		c.Kind, c.Period, c.DaysCharged, c.DaysInMonth, c.Amount, c.Payable = KindCharge, first, ch.DaysCharged, ch.DaysInMonth, ch.Amount, ch.Payable
		out = append(out, c)
	}
	if rel, ok := released(l.Charged, first); ok {
		r := l
		r.Kind, r.Period, r.Amount, r.Payable, r.DaysInMonth = KindRelease, first, rel, true, first.AddDate(0, 1, -1).Day()
		out = append(out, r)
	}
	return out
}

// released is the sum held in the months before first, released because
// M2 is recorded in first's month.
func released(c Charged, first time.Time) (money.Amount, bool) {
	if c.M2 == nil || c.ActualM1 == nil || c.M2.Before(first) || c.M2.After(first.AddDate(0, 1, -1)) {
		return 0, false
	}
	var sum money.Amount
	held := false
	for m := time.Date(c.ActualM1.Year(), c.ActualM1.Month(), 1, 0, 0, 0, 0, time.UTC); m.Before(first); m = m.AddDate(0, 1, 0) {
		if ch, ok := ChargeFor(c, m); ok {
			// Before M2's month every charge of this instance was held.
			sum += ch.Amount
			held = true
		}
	}
	return sum, held
}

func isClosed(ctx context.Context, db postgres.Querier, first time.Time) (bool, error) {
	var closed bool
	err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM billing_months WHERE period = $1)`, first).Scan(&closed)
	return closed, err
}

// FirstOpen is the month after the latest closed one, or nil when no
// month was ever closed (every month is then computed, with nothing to
// adjust).
func FirstOpen(ctx context.Context, db postgres.Querier) (*time.Time, error) {
	var latest *time.Time
	if err := db.QueryRow(ctx, `SELECT max(period) FROM billing_months`).Scan(&latest); err != nil {
		return nil, fmt.Errorf("latest closed month: %w", err)
	}
	if latest == nil {
		return nil, nil
	}
	next := latest.AddDate(0, 1, 0)
	return &next, nil
}

// frozen reads a closed month's lines as they were when it was closed.
func frozen(ctx context.Context, db postgres.Querier, first time.Time, emit func(Line) error) error {
	return frozenWhere(ctx, db, first, "true", nil, emit)
}

// frozenPage reads limit of a closed month's lines that pass f, from
// offset, in the order frozen reads them.
func frozenPage(ctx context.Context, db postgres.Querier, first time.Time, f Filter, offset, limit int, emit func(Line) error) error {
	return frozenWhere(ctx, db, first, frozenFilter+` ORDER BY `+frozenOrder+` LIMIT $6 OFFSET $7`,
		[]any{f.Supplier, f.CCG, f.Product, f.State, limit, offset}, emit)
}

// frozenFilter is Filter.keeps in SQL, on $2 to $5, for frozenWhere and
// frozenSums.
const frozenFilter = `($2 = '' OR si.supplier_id = $2) AND ($3 = '' OR si.ccg_code = $3) AND ($4 = '' OR si.catalogue_item_id = $4)
	AND ($5 = '' OR b.payable = ($5 = 'payable'))`

// frozenOrder is the order the lines were frozen in (Close copies them
// in the order Each gave them: by supplier, CCG, practice and service,
// the adjustments last), which billing_lines_period_id_idx reads without
// a sort.
const frozenOrder = `b.id`

// frozenWhere reads the closed month's lines that meet cond (on b, the
// frozen line, and si, its instance; its arguments from $2), ordered
// unless cond orders them itself.
func frozenWhere(ctx context.Context, db postgres.Querier, first time.Time, cond string, args []any, emit func(Line) error) error {
	if !strings.Contains(cond, "ORDER BY") {
		cond += " ORDER BY " + frozenOrder
	}
	rows, err := db.Query(ctx, `
		SELECT b.kind, b.corrects, b.quantity, b.days_charged, b.days_in_month, b.amount::text, b.payable, b.list_size_date, `+instanceColumns+`
		FROM billing_lines b
		JOIN service_instances si ON si.id = b.instance_id`+frozenJoins+`
		WHERE b.period = $1 AND `+cond, append([]any{first}, args...)...)
	if err != nil {
		return fmt.Errorf("lines of %s: %w", first.Format("2006-01"), err)
	}
	defer rows.Close()
	for rows.Next() {
		var l Line
		var kind, amount string
		var corrects *time.Time
		var qty, days, daysIn int
		var payable, perPatient bool
		var price string
		var listDate, noDate *time.Time
		if err := rows.Scan(&kind, &corrects, &qty, &days, &daysIn, &amount, &payable, &listDate,
			&l.InstanceID, &l.PracticeCode, &l.Source, &l.CCGCode, &l.CCGName, &l.PracticeName, &l.SupplierID,
			&l.SupplierName, &l.ProductID, &l.ProductName, &l.ProductType, &l.Unit, &l.TimeUnit, &l.Quantity, &price,
			&l.ActualM1, &l.M2, &l.Cessation, &perPatient, &noDate); err != nil {
			return err
		}
		var err error
		if l.Price, err = money.Parse(price); err != nil {
			return err
		}
		if l.Amount, err = money.Parse(amount); err != nil {
			return err
		}
		l.InstanceRef = instanceRef(l.InstanceID, l.PracticeCode)
		l.Charged = Charged{UnitPrice: l.Price, TimeUnit: l.TimeUnit, Quantity: qty, ActualM1: l.ActualM1, M2: l.M2, Cessation: l.Cessation,
			PerPatient: perPatient, ListDate: listDate}
		if l.TimeUnit == "" {
			l.TimeUnit = "one-off"
		}
		l.Kind, l.Period, l.Corrects, l.Quantity, l.DaysCharged, l.DaysInMonth, l.Payable = kind, first, corrects, qty, days, daysIn, payable
		if err := emit(l); err != nil {
			return err
		}
	}
	return rows.Err()
}

// frozenSums adds a closed month's frozen lines that pass f up in SQL:
// by supplier, by CCG, all, their number, and (with choices) the
// filters' choices.
func frozenSums(ctx context.Context, db postgres.Querier, first time.Time, f Filter, m *Month, choices bool) error {
	rows, err := db.Query(ctx, `
		SELECT GROUPING(si.supplier_id), GROUPING(si.ccg_code), GROUPING(si.catalogue_item_id),
		       coalesce(si.supplier_id, si.ccg_code, si.catalogue_item_id, ''), coalesce(s.name, c.name, ci.name, ''),
		       coalesce(sum(b.amount) FILTER (WHERE b.kind <> 'adjustment' AND b.payable), 0)::text,
		       coalesce(sum(b.amount) FILTER (WHERE b.kind <> 'adjustment' AND NOT b.payable), 0)::text,
		       coalesce(sum(b.amount) FILTER (WHERE b.kind = 'adjustment'), 0)::text,
		       count(*)
		FROM billing_lines b
		JOIN service_instances si ON si.id = b.instance_id
		JOIN suppliers s ON s.id = si.supplier_id
		JOIN ccgs c ON c.code = si.ccg_code
		JOIN catalogue_items ci ON ci.id = si.catalogue_item_id
		JOIN practices p ON p.code = si.practice_code
		WHERE b.period = $1 AND `+frozenFilter+`
		GROUP BY GROUPING SETS ((si.supplier_id, s.name), (si.ccg_code, c.name), (si.catalogue_item_id, ci.name), ())
		ORDER BY 4`, first, f.Supplier, f.CCG, f.Product, f.State)
	if err != nil {
		return fmt.Errorf("sums of %s: %w", first.Format("2006-01"), err)
	}
	defer rows.Close()
	m.BySupplier, m.ByCCG = []Totals{}, []Totals{}
	for rows.Next() {
		var gs, gc, gp int
		var code, name, payable, held, adj string
		var n int
		if err := rows.Scan(&gs, &gc, &gp, &code, &name, &payable, &held, &adj, &n); err != nil {
			return err
		}
		t := Totals{Code: code, Name: name}
		for _, a := range []struct {
			to  *money.Amount
			txt string
		}{{&t.Payable, payable}, {&t.Held, held}, {&t.Adjustments, adj}} {
			if *a.to, err = money.Parse(a.txt); err != nil {
				return err
			}
		}
		switch {
		case gs == 0:
			m.BySupplier = append(m.BySupplier, t)
			if choices {
				m.Choices.Suppliers = append(m.Choices.Suppliers, Choice{Value: code, Label: name + " (" + code + ")"})
			}
		case gc == 0:
			m.ByCCG = append(m.ByCCG, t)
			if choices {
				m.Choices.CCGs = append(m.Choices.CCGs, Choice{Value: code, Label: name + " (" + code + ")"})
			}
		case gp == 0:
			if choices {
				m.Choices.Products = append(m.Choices.Products, Choice{Value: code, Label: name + " (" + code + ")"})
			}
		default:
			t.Name = "All"
			m.All, m.Count = t, n
		}
	}
	m.Choices.sort()
	return rows.Err()
}

// adjustments compares every closed month, for each instance changed
// since the month was closed, with what it would be now; a difference is
// an adjustment line (debit or credit) naming the month it corrects. An
// instance changed when its history did, or (for a per-patient price) when
// an extract dated on or before the month was written for its practice
// after the month closed: the size in force in the month may have moved.
// What was billed for the month (its frozen charges and releases, and the
// adjustments already made for it) comes in the same query, so the cost
// does not grow with the number of candidates.
func adjustments(ctx context.Context, db postgres.Querier, first time.Time, emit func(Line) error) error {
	// The candidates (month, instance) are found first and kept apart
	// (MATERIALIZED): joined in one plan with the instance's columns, whose
	// list size depends on the month, PostgreSQL re-read every instance
	// once per candidate (minutes at national scale, not milliseconds).
	rows, err := db.Query(ctx, `
		WITH changed AS MATERIALIZED (
			SELECT bm.period, x.instance_id
			FROM billing_months bm
			JOIN LATERAL (
				SELECT h.instance_id FROM service_instance_history h WHERE h.at > bm.closed_at
				UNION
				SELECT si.id FROM practice_list_sizes pls
				JOIN service_instances si ON si.practice_code = pls.practice_code AND si.quantity_rule = 'list_size'
				WHERE pls.created_at > bm.closed_at AND pls.extract_date <= bm.period
			) x ON true
			WHERE bm.closed_at IS NOT NULL
		)
		SELECT ch.period, coalesce(billed.sum, 0)::text, `+instanceColumns+`
		FROM changed ch
		JOIN service_instances si ON si.id = ch.instance_id`+instanceJoins("ch.period")+`
		LEFT JOIN LATERAL (
			SELECT sum(amount) FROM billing_lines b
			WHERE b.instance_id = ch.instance_id AND ((b.period = ch.period AND b.kind <> 'adjustment') OR b.corrects = ch.period)
		) billed ON true
		ORDER BY ch.period, si.supplier_id, si.ccg_code, si.practice_code, si.id`)
	if err != nil {
		return fmt.Errorf("changes to closed months: %w", err)
	}
	// The lines are emitted once the rows are closed: emit may use the
	// connection.
	var out []Line
	defer rows.Close()
	for rows.Next() {
		var closed time.Time
		var l Line
		var price, billed string
		var perPatient bool
		var listDate *time.Time
		if err := rows.Scan(&closed, &billed, &l.InstanceID, &l.PracticeCode, &l.Source, &l.CCGCode, &l.CCGName, &l.PracticeName, &l.SupplierID,
			&l.SupplierName, &l.ProductID, &l.ProductName, &l.ProductType, &l.Unit, &l.TimeUnit, &l.Quantity, &price,
			&l.ActualM1, &l.M2, &l.Cessation, &perPatient, &listDate); err != nil {
			return err
		}
		var err error
		if l.Price, err = money.Parse(price); err != nil {
			return err
		}
		was, err := money.Parse(billed)
		if err != nil {
			return err
		}
		l.InstanceRef = instanceRef(l.InstanceID, l.PracticeCode)
		l.Charged = Charged{UnitPrice: l.Price, TimeUnit: l.TimeUnit, Quantity: l.Quantity, ActualM1: l.ActualM1, M2: l.M2, Cessation: l.Cessation,
			PerPatient: perPatient, ListDate: listDate}
		if l.TimeUnit == "" {
			l.TimeUnit = "one-off"
		}
		var now money.Amount
		for _, x := range linesOf(l, closed) {
			now += x.Amount
		}
		if diff := now - was; diff != 0 {
			a := l
			corrects := dates.Of(closed)
			a.Kind, a.Period, a.Corrects, a.Amount, a.Payable = KindAdjustment, first, &corrects, diff, a.M2 != nil
			a.DaysInMonth = first.AddDate(0, 1, -1).Day()
			out = append(out, a)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()
	for _, a := range out {
		if err := emit(a); err != nil {
			return err
		}
	}
	return nil
}

// CopyBaseline is the engine's query for an open month, as computed runs
// it, with the dates written in, cut to limit rows, as a COPY to stdout:
// the baseline the benchmarks (make bench) compare the exports with. The
// engine reads a few more instances than it emits lines (a one-off or
// ceased service it charges nothing), so the COPY runs the same scan and
// order and writes as many rows as the exports.
func CopyBaseline(first time.Time, limit int) string {
	last := first.AddDate(0, 1, -1)
	return fmt.Sprintf(`COPY (%s
		WHERE si.actual_m1 <= '%s' AND (si.cessation_date IS NULL OR si.cessation_date > '%s' OR si.time_unit IS NULL OR si.m2 BETWEEN '%s' AND '%s')
		ORDER BY si.supplier_id, si.ccg_code, si.practice_code, si.id LIMIT %d) TO STDOUT (FORMAT csv, HEADER)`,
		instanceQuery("'"+first.Format(time.DateOnly)+"'"), last.Format(time.DateOnly), first.Format(time.DateOnly), first.Format(time.DateOnly), last.Format(time.DateOnly), limit)
}
