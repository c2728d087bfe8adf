package ledger

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/paging"
	"ccgtracker/internal/postgres"
)

// inPeriod is what a monthly return is about: a CCG's ($1) services that
// are planned, or live at some time in [$2, $3].
const inPeriod = `
	WHERE si.ccg_code = $1
	  AND (si.state = 'planned'
	       OR (si.actual_m1 <= $3 AND (si.cessation_date IS NULL OR si.cessation_date > $2)))`

// inPeriodOrder lists them by practice, then item.
const inPeriodOrder = `p.name, si.practice_code, ci.name, si.id`

// InPeriod returns a CCG's services that are planned, or live at some
// time in [first, last]: what a monthly return is pre-populated with.
func InPeriod(ctx context.Context, db postgres.Querier, ccgCode string, first, last time.Time) ([]Instance, error) {
	rows, err := db.Query(ctx, `SELECT `+instanceColumns+instanceFrom+inPeriod+`
		ORDER BY `+inPeriodOrder, ccgCode, first, last)
	if err != nil {
		return nil, fmt.Errorf("services of %s in the period: %w", ccgCode, err)
	}
	return pgx.CollectRows(rows, scanInstance)
}

// PeriodFilter narrows a return's services: Search is part of the
// practice's name, the start of its ODS code or of the service's id
// (SI12-A81001), or part of the item's name; State one state; ItemID one
// catalogue item. Empty fields do not narrow.
type PeriodFilter struct {
	Search string
	State  State
	ItemID string
}

// InPeriodPage returns one page of what InPeriod returns, narrowed by f.
// A return's page shows a CCG's services this way, as the biggest CCGs
// have thousands. Only the filters in use go into the SQL, so that the
// count reads the (ccg_code, practice_code, state) index alone, which
// carries the item too (migration 000015).
func InPeriodPage(ctx context.Context, db postgres.Querier, ccgCode string, first, last time.Time, f PeriodFilter, page paging.Page) (paging.Result[Instance], error) {
	where, args := strings.TrimPrefix(strings.TrimSpace(inPeriod), "WHERE"), []any{ccgCode, first, last}
	joins := ""
	if f.State != "" {
		args = append(args, string(f.State))
		where += fmt.Sprintf(` AND si.state = $%d`, len(args))
	}
	if f.ItemID != "" {
		args = append(args, f.ItemID)
		where += fmt.Sprintf(` AND si.catalogue_item_id = $%d`, len(args))
	}
	if f.Search != "" {
		// Only a search needs the names; without one the practices are
		// counted from the instances alone.
		joins = `JOIN practices p ON p.code = si.practice_code JOIN catalogue_items ci ON ci.id = si.catalogue_item_id`
		args = append(args, f.Search)
		n := len(args)
		where += fmt.Sprintf(` AND (p.name ILIKE '%%' || $%[1]d || '%%' OR si.practice_code ILIKE $%[1]d || '%%'
		       OR 'SI' || si.id || '-' || si.practice_code ILIKE $%[1]d || '%%' OR ci.name ILIKE '%%' || $%[1]d || '%%')`, n)
	}
	res, err := pageByPractice(ctx, db, joins, where, args, page)
	if err != nil {
		return res, fmt.Errorf("services of %s in the period: %w", ccgCode, err)
	}
	return res, nil
}

// Item is a catalogue item as a filter offers it.
type Item struct{ ID, Name string }

// MaxItemsInPeriod bounds ItemsInPeriod: a CCG's services use tens of
// items; the bound only keeps a select usable should one use hundreds.
const MaxItemsInPeriod = 200

// ItemsInPeriod returns the catalogue items of a CCG's services that are
// planned, or live at some time in [first, last], by name: what a
// return's services can be filtered by. One query, from the period index
// (which carries the item) and the items' own rows.
func ItemsInPeriod(ctx context.Context, db postgres.Querier, ccgCode string, first, last time.Time) ([]Item, error) {
	rows, err := db.Query(ctx, `
		SELECT ci.id, ci.name FROM catalogue_items ci
		WHERE ci.id IN (SELECT si.catalogue_item_id FROM service_instances si `+inPeriod+`)
		ORDER BY ci.name, ci.id LIMIT $4`, ccgCode, first, last, MaxItemsInPeriod)
	if err != nil {
		return nil, fmt.Errorf("items of %s in the period: %w", ccgCode, err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Item, error) {
		var i Item
		return i, row.Scan(&i.ID, &i.Name)
	})
}

// ByIDs returns the instances with these ids, in any order.
func ByIDs(ctx context.Context, db postgres.Querier, ids []int64) (map[int64]Instance, error) {
	rows, err := db.Query(ctx, `SELECT `+instanceColumns+instanceFrom+` WHERE si.id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("service instances: %w", err)
	}
	list, err := pgx.CollectRows(rows, scanInstance)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]Instance, len(list))
	for _, i := range list {
		out[i.ID] = i
	}
	return out, nil
}

// OfPractice returns a practice's planned and active services.
func OfPractice(ctx context.Context, db postgres.Querier, practice string) ([]Instance, error) {
	rows, err := db.Query(ctx, `SELECT `+instanceColumns+instanceFrom+`
		WHERE si.practice_code = $1 AND si.state IN ('planned', 'active') ORDER BY si.id`, practice)
	if err != nil {
		return nil, fmt.Errorf("services of %s: %w", practice, err)
	}
	return pgx.CollectRows(rows, scanInstance)
}

// ServiceIDsOfPractices returns the ids of the planned and active
// services of each of these practices with one narrow query, however many
// there are: for checking every practice a return names at once. A
// practice with none has no entry.
func ServiceIDsOfPractices(ctx context.Context, db postgres.Querier, practices []string) (map[string][]int64, error) {
	out := map[string][]int64{}
	if len(practices) == 0 {
		return out, nil
	}
	rows, err := db.Query(ctx, `
		SELECT practice_code, id FROM service_instances
		WHERE practice_code = ANY($1) AND state IN ('planned', 'active') ORDER BY id`, practices)
	if err != nil {
		return nil, fmt.Errorf("services of %d practices: %w", len(practices), err)
	}
	var practice string
	var id int64
	if _, err := pgx.ForEachRow(rows, []any{&practice, &id}, func() error {
		out[practice] = append(out[practice], id)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("services of %d practices: %w", len(practices), err)
	}
	return out, nil
}

// Term is the window a service's dates must fall in: its order's term, or
// from its agreement's start; zero times mean no bound.
type Term struct{ From, To time.Time }

// TermOf returns the term of an instance's order or agreement.
func TermOf(ctx context.Context, db postgres.Querier, i Instance) (Term, error) {
	var t Term
	var err error
	switch {
	case i.OrderID != nil:
		err = db.QueryRow(ctx, `
			SELECT commencement_date,
			       (commencement_date + make_interval(months => maximum_term_months) - interval '1 day')::date
			FROM orders WHERE id = $1`, *i.OrderID).Scan(&t.From, &t.To)
	case i.AgreementID != nil:
		err = db.QueryRow(ctx, `SELECT start_date FROM continuity_agreements WHERE id = $1`, *i.AgreementID).Scan(&t.From)
	}
	if err != nil {
		return t, fmt.Errorf("term of %s: %w", i.Ref(), err)
	}
	return t, nil
}

// TermsOf returns the terms of many instances with two queries, however
// many there are: for checking a whole uploaded return at once.
func TermsOf(ctx context.Context, db postgres.Querier, list []Instance) (map[int64]Term, error) {
	var orderIDs, agreementIDs []int64
	for _, i := range list {
		switch {
		case i.OrderID != nil:
			orderIDs = append(orderIDs, *i.OrderID)
		case i.AgreementID != nil:
			agreementIDs = append(agreementIDs, *i.AgreementID)
		}
	}
	orders := map[int64]Term{}
	rows, err := db.Query(ctx, `
		SELECT id, commencement_date,
		       (commencement_date + make_interval(months => maximum_term_months) - interval '1 day')::date
		FROM orders WHERE id = ANY($1)`, orderIDs)
	if err != nil {
		return nil, fmt.Errorf("terms of orders: %w", err)
	}
	var id int64
	var t Term
	if _, err := pgx.ForEachRow(rows, []any{&id, &t.From, &t.To}, func() error { orders[id] = t; return nil }); err != nil {
		return nil, fmt.Errorf("terms of orders: %w", err)
	}
	agreements := map[int64]time.Time{}
	rows, err = db.Query(ctx, `SELECT id, start_date FROM continuity_agreements WHERE id = ANY($1)`, agreementIDs)
	if err != nil {
		return nil, fmt.Errorf("starts of agreements: %w", err)
	}
	var start time.Time
	if _, err := pgx.ForEachRow(rows, []any{&id, &start}, func() error { agreements[id] = start; return nil }); err != nil {
		return nil, fmt.Errorf("starts of agreements: %w", err)
	}
	out := make(map[int64]Term, len(list))
	for _, i := range list {
		switch {
		case i.OrderID != nil:
			out[i.ID] = orders[*i.OrderID]
		case i.AgreementID != nil:
			out[i.ID] = Term{From: agreements[*i.AgreementID]}
		}
	}
	return out, nil
}
