// Package ledger owns the service ledger (DOMAIN.md §5): one service
// instance per service at a practice, from a call-off order or a
// Continuity Call-Off Agreement, with the history of every change, and
// the agreements themselves. The ledger changes only inside the
// transaction of the event that changes it (an order completed or
// terminated, a return accepted), and every change keeps its history.
package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/money"
	"ccgtracker/internal/org"
	"ccgtracker/internal/paging"
	"ccgtracker/internal/postgres"
)

// State is where a service instance is in its life.
type State string

// The states of DOMAIN.md §5.
const (
	Planned   State = "planned"
	Active    State = "active"
	Ceased    State = "ceased"
	Cancelled State = "cancelled"
)

// Quantity rules: a fixed quantity, or the practice's list size in force
// each month (per-patient prices).
const (
	QuantityFixed    = "fixed"
	QuantityListSize = "list_size"
)

// Instance is one service at one practice.
type Instance struct {
	ID           int64
	CCGCode      string
	PracticeCode string
	PracticeName string
	ItemID       string
	ItemName     string
	ItemKind     string
	SupplierID   string
	SupplierName string
	OrderID      *int64
	CallOffID    string // of the order revision that created it
	AgreementID  *int64
	UnitPrice    money.Amount
	PricingUnit  string
	TimeUnit     string // month, year, or "" for one-off
	QuantityRule string
	Quantity     int
	PlannedM1    *time.Time
	ActualM1     *time.Time
	M2           *time.Time
	Cessation    *time.Time
	State        State
	Version      int
}

// Ref is the service instance id people see: SI<n>-<practice ODS code>.
func (i Instance) Ref() string { return fmt.Sprintf("SI%d-%s", i.ID, i.PracticeCode) }

// Source names where the instance came from: its call-off id or the
// continuity agreement.
func (i Instance) Source() string {
	if i.CallOffID != "" {
		return i.CallOffID
	}
	return "Continuity agreement"
}

// NewInstance is a service instance to create.
type NewInstance struct {
	CCGCode          string
	PracticeCode     string
	ItemID           string
	SupplierID       string
	OrderID          *int64
	OrderRecipientID *int64
	AgreementID      *int64
	UnitPrice        money.Amount
	PricingUnit      string
	TimeUnit         string
	QuantityRule     string
	Quantity         int
	PlannedM1        *time.Time
	ActualM1         *time.Time
	M2               *time.Time
	State            State
}

// CreateTx adds service instances in tx, the transaction of the event
// that creates them (an order completed, a return accepted), each with a
// first history entry naming it ("order C010001-01 completed") and a. The
// caller's command has checked a's scope.
func CreateTx(ctx context.Context, tx pgx.Tx, now time.Time, a org.Actor, change string, ins []NewInstance) ([]int64, error) {
	ids := make([]int64, 0, len(ins))
	for _, n := range ins {
		var timeUnit *string
		if n.TimeUnit != "" {
			timeUnit = &n.TimeUnit
		}
		var id int64
		err := tx.QueryRow(ctx, `
			INSERT INTO service_instances (ccg_code, practice_code, catalogue_item_id, supplier_id, order_id, order_recipient_id,
				agreement_id, unit_price, pricing_unit, time_unit, quantity_rule, quantity, planned_m1, actual_m1, m2, state, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8::numeric, $9, $10, $11, $12, $13, $14, $15, $16, $17)
			RETURNING id`,
			n.CCGCode, n.PracticeCode, n.ItemID, n.SupplierID, n.OrderID, n.OrderRecipientID, n.AgreementID,
			n.UnitPrice.Decimal(), n.PricingUnit, timeUnit, n.QuantityRule, n.Quantity, n.PlannedM1, n.ActualM1, n.M2, n.State, now,
		).Scan(&id)
		if err != nil {
			return nil, fmt.Errorf("create service instance for %s %s: %w", n.PracticeCode, n.ItemID, err)
		}
		after := snapshot{State: n.State, PlannedM1: day(n.PlannedM1), ActualM1: day(n.ActualM1), M2: day(n.M2), Quantity: n.Quantity}
		if err := writeHistory(ctx, tx, id, now, a.ID, change, nil, nil, &after); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// snapshot is what the history keeps of an instance before and after a change.
type snapshot struct {
	State     State  `json:"state"`
	PlannedM1 string `json:"planned_m1,omitempty"`
	ActualM1  string `json:"actual_m1,omitempty"`
	M2        string `json:"m2,omitempty"`
	Cessation string `json:"cessation,omitempty"`
	Quantity  int    `json:"quantity"`
}

func snapshotOf(i Instance) snapshot {
	return snapshot{State: i.State, PlannedM1: day(i.PlannedM1), ActualM1: day(i.ActualM1), M2: day(i.M2), Cessation: day(i.Cessation), Quantity: i.Quantity}
}

func day(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format(time.DateOnly)
}

func writeHistory(ctx context.Context, tx pgx.Tx, id int64, now time.Time, actorID *int64, change string, returnLineID *int64, before, after *snapshot) error {
	var b, a []byte
	var err error
	if before != nil {
		if b, err = json.Marshal(before); err != nil {
			return err
		}
	}
	if after != nil {
		if a, err = json.Marshal(after); err != nil {
			return err
		}
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO service_instance_history (instance_id, at, actor_id, change, return_line_id, before, after)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, now, actorID, change, returnLineID, b, a)
	if err != nil {
		return fmt.Errorf("history of service instance %d: %w", id, err)
	}
	return nil
}

// ChangeTx applies fn to one instance, locked in tx (the transaction of
// the event that changes it), and records the values before and after in
// its history, by a and naming the return line when one made the change.
// fn returns an error to refuse. The caller's command has checked a's
// scope.
func ChangeTx(ctx context.Context, tx pgx.Tx, now time.Time, a org.Actor, id int64, change string, returnLineID *int64, fn func(*Instance) error) (Instance, error) {
	if _, err := tx.Exec(ctx, `SELECT 1 FROM service_instances WHERE id = $1 FOR UPDATE`, id); err != nil {
		return Instance{}, fmt.Errorf("lock service instance %d: %w", id, err)
	}
	inst, err := get(ctx, tx, org.AllCCGs(), id)
	if err != nil {
		return Instance{}, err
	}
	before := snapshotOf(inst)
	if err := fn(&inst); err != nil {
		return Instance{}, err
	}
	after := snapshotOf(inst)
	if before == after {
		return inst, nil
	}
	_, err = tx.Exec(ctx, `
		UPDATE service_instances SET state = $2, planned_m1 = $3, actual_m1 = $4, m2 = $5, cessation_date = $6,
			quantity = $7, version = version + 1
		WHERE id = $1`, id, inst.State, inst.PlannedM1, inst.ActualM1, inst.M2, inst.Cessation, inst.Quantity)
	if err != nil {
		return Instance{}, fmt.Errorf("change service instance %d: %w", id, err)
	}
	inst.Version++
	return inst, writeHistory(ctx, tx, id, now, a.ID, change, returnLineID, &before, &after)
}

const instanceColumns = `
	si.id, si.ccg_code, si.practice_code, p.name, si.catalogue_item_id, ci.name, ci.kind, si.supplier_id, s.name,
	si.order_id, coalesce(o.call_off_id, ''),
	si.agreement_id, si.unit_price::text, si.pricing_unit, coalesce(si.time_unit, ''), si.quantity_rule, si.quantity,
	si.planned_m1, si.actual_m1, si.m2, si.cessation_date, si.state, si.version`

const instanceFrom = `
	FROM service_instances si
	JOIN practices p ON p.code = si.practice_code
	JOIN catalogue_items ci ON ci.id = si.catalogue_item_id
	JOIN suppliers s ON s.id = si.supplier_id
	LEFT JOIN orders o ON o.id = si.order_id`

func scanInstance(row pgx.CollectableRow) (Instance, error) { return scanInstanceAnd(row) }

// scanInstanceAnd reads instanceColumns and then the columns a query adds
// after them into more.
func scanInstanceAnd(row pgx.CollectableRow, more ...any) (Instance, error) {
	var i Instance
	var price string
	err := row.Scan(append([]any{&i.ID, &i.CCGCode, &i.PracticeCode, &i.PracticeName, &i.ItemID, &i.ItemName, &i.ItemKind, &i.SupplierID,
		&i.SupplierName, &i.OrderID, &i.CallOffID, &i.AgreementID, &price, &i.PricingUnit, &i.TimeUnit, &i.QuantityRule,
		&i.Quantity, &i.PlannedM1, &i.ActualM1, &i.M2, &i.Cessation, &i.State, &i.Version}, more...)...)
	if err != nil {
		return i, err
	}
	i.UnitPrice, err = money.Parse(price)
	return i, err
}

// Filter narrows the ledger of a CCG.
type Filter struct {
	Practice string // a practice ODS code, or empty
	State    State  // or empty for every state
	OrderID  *int64 // the instances of one order revision
}

// List returns one page of a CCG's service instances, by practice then item.
//
// It works in two steps so that its cost follows the page, not the size of
// the CCG's ledger: first how many matching instances each practice has,
// from the (ccg_code, practice_code, state) index alone, in the list's
// order (which is also the total); then the rows of only the practices the
// page falls on. Sorting every instance of a big CCG with its names joined
// in, as one query, took ten times longer at ten times the services.
func List(ctx context.Context, db postgres.Querier, scope org.Scope, ccgCode string, f Filter, page paging.Page) (paging.Result[Instance], error) {
	res := paging.Result[Instance]{Page: page}
	if !scope.Allows(ccgCode) {
		return res, nil
	}
	// Only the filters in use go into the SQL: "($2 = '' OR ...)" would
	// keep the prepared statement's generic plan from scanning the index
	// alone.
	where, args := `si.ccg_code = $1`, []any{ccgCode}
	if f.Practice != "" {
		args = append(args, strings.ToUpper(f.Practice))
		where += fmt.Sprintf(` AND si.practice_code = $%d`, len(args))
	}
	if f.State != "" {
		args = append(args, string(f.State))
		where += fmt.Sprintf(` AND si.state = $%d`, len(args))
	}
	if f.OrderID != nil {
		args = append(args, *f.OrderID)
		where += fmt.Sprintf(` AND si.order_id = $%d`, len(args))
	}
	return pageByPractice(ctx, db, "", where, args, page)
}

// pageByPractice returns one page of the instances matching where (over
// si, and p and ci when joins brings them in), in the ledger's order (by
// practice name, practice, item, id), in two steps: first how many match
// at each practice, in the practices' order (which is also the total);
// then the rows of only the practices the page falls on. Sorting every
// instance of a big CCG with its names joined in, as one query, took ten
// times longer at ten times the services.
func pageByPractice(ctx context.Context, db postgres.Querier, joins, where string, args []any, page paging.Page) (paging.Result[Instance], error) {
	res := paging.Result[Instance]{Page: page}
	rows, err := db.Query(ctx, `
		SELECT g.practice_code, g.n
		FROM (SELECT si.practice_code, count(*) AS n FROM service_instances si `+joins+` WHERE `+where+` GROUP BY si.practice_code) g
		-- A name per practice by its key, rather than a hash of all 6,500.
		ORDER BY (SELECT p.name FROM practices p WHERE p.code = g.practice_code), g.practice_code`, args...)
	if err != nil {
		return res, fmt.Errorf("service instances by practice: %w", err)
	}
	type group struct {
		practice string
		n        int
	}
	groups, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (group, error) {
		var g group
		return g, row.Scan(&g.practice, &g.n)
	})
	if err != nil {
		return res, fmt.Errorf("service instances by practice: %w", err)
	}
	// The practices whose rows overlap [offset, offset+size), and how many
	// rows of the first of them come before the page.
	var picked []string
	skip, seen := 0, 0
	for _, g := range groups {
		if seen+g.n > page.Offset() && seen < page.Offset()+page.Size {
			if len(picked) == 0 {
				skip = page.Offset() - seen
			}
			picked = append(picked, g.practice)
		}
		seen += g.n
	}
	res.Total = seen
	if len(picked) == 0 {
		return res, nil
	}
	n := len(args)
	rows, err = db.Query(ctx, `SELECT `+instanceColumns+instanceFrom+`
		WHERE `+where+fmt.Sprintf(` AND si.practice_code = ANY($%d)
		ORDER BY p.name, si.practice_code, ci.name, si.id LIMIT $%d OFFSET $%d`, n+1, n+2, n+3),
		append(args, picked, page.Size, skip)...)
	if err != nil {
		return res, fmt.Errorf("service instances: %w", err)
	}
	if res.Rows, err = pgx.CollectRows(rows, scanInstance); err != nil {
		return res, fmt.Errorf("service instances: %w", err)
	}
	return res, nil
}

// ForOrders returns every instance created by any revision of an order.
func ForOrders(ctx context.Context, db postgres.Querier, orderIDs []int64) ([]Instance, error) {
	rows, err := db.Query(ctx, `SELECT `+instanceColumns+instanceFrom+`
		WHERE si.order_id = ANY($1) ORDER BY p.name, si.practice_code, ci.name, si.id`, orderIDs)
	if err != nil {
		return nil, fmt.Errorf("service instances of orders: %w", err)
	}
	return pgx.CollectRows(rows, scanInstance)
}

func get(ctx context.Context, db postgres.Querier, scope org.Scope, id int64) (Instance, error) {
	all, ccg := scope.SQLArgs()
	rows, err := db.Query(ctx, `SELECT `+instanceColumns+instanceFrom+` WHERE si.id = $1 AND ($2 OR si.ccg_code = $3)`, id, all, ccg)
	if err != nil {
		return Instance{}, fmt.Errorf("get service instance %d: %w", id, err)
	}
	inst, err := pgx.CollectExactlyOneRow(rows, scanInstance)
	if err != nil {
		return Instance{}, postgres.NotFound(err, "No such service instance.")
	}
	return inst, nil
}

// HistoryEntry is one change of a service instance.
type HistoryEntry struct {
	At     time.Time
	Actor  string
	Change string
	Before json.RawMessage
	After  json.RawMessage
}

// Get returns one instance in scope with its history, oldest first.
func Get(ctx context.Context, db postgres.Querier, scope org.Scope, id int64) (Instance, []HistoryEntry, error) {
	inst, err := get(ctx, db, scope, id)
	if err != nil {
		return inst, nil, err
	}
	rows, err := db.Query(ctx, `
		SELECT h.at, coalesce(u.name, 'System'), h.change, coalesce(h.before, 'null'), coalesce(h.after, 'null')
		FROM service_instance_history h LEFT JOIN users u ON u.id = h.actor_id
		WHERE h.instance_id = $1 ORDER BY h.at, h.id`, id)
	if err != nil {
		return inst, nil, fmt.Errorf("history of %d: %w", id, err)
	}
	hist, err := pgx.CollectRows(rows, pgx.RowToStructByPos[HistoryEntry])
	return inst, hist, err
}

// ApplyDueCessationsTx ends the instances whose cessation date has come,
// in tx: active ones cease, planned ones (terminated before going live)
// are cancelled, their history naming a. Idempotent; the nightly job runs
// it in its own transaction, as the system.
func ApplyDueCessationsTx(ctx context.Context, tx pgx.Tx, now time.Time, a org.Actor, today time.Time) (int, error) {
	rows, err := tx.Query(ctx, `
		SELECT id FROM service_instances
		WHERE cessation_date <= $1 AND state IN ('planned', 'active') ORDER BY id`, today)
	if err != nil {
		return 0, fmt.Errorf("due cessations: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, fmt.Errorf("due cessations: %w", err)
	}
	for _, id := range ids {
		if _, err := ChangeTx(ctx, tx, now, a, id, "cessation date reached", nil, func(i *Instance) error {
			if i.State == Active {
				i.State = Ceased
			} else {
				i.State = Cancelled
			}
			return nil
		}); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// ErrStateRefused is returned when a change does not fit the instance's state.
func ErrStateRefused(i Instance, what string) error {
	return apperr.New(apperr.Invalid, "%s is %s, so it cannot %s.", i.Ref(), i.State, what)
}
