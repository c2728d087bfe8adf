// Package order owns call-off orders (DOMAIN.md §4): their details, the
// catalogue items with a snapshot of each price, the service recipients,
// the exact cost summary, and the lifecycle: complete (which creates the
// service instances), amend (a new revision that only adds) and terminate.
package order

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/dates"
	"ccgtracker/internal/money"
	"ccgtracker/internal/org"
	"ccgtracker/internal/paging"
	"ccgtracker/internal/postgres"
)

// Status is where an order revision is in its life.
type Status string

// The statuses of an order revision.
const (
	InProgress Status = "in_progress" // editable
	Completed  Status = "completed"   // signed; read-only; in force
	Superseded Status = "superseded"  // a later revision was completed
	Terminated Status = "terminated"  // ended early
)

// Name is the status in words.
func (s Status) Name() string {
	switch s {
	case InProgress:
		return "In progress"
	case Completed:
		return "Completed"
	case Superseded:
		return "Superseded"
	case Terminated:
		return "Terminated"
	}
	return string(s)
}

// Order is one revision of a call-off order.
type Order struct {
	ID                int64
	Number            int
	Revision          int
	CCGCode           string
	CCGName           string
	SupplierID        string
	SupplierName      string
	Description       string
	Commencement      time.Time
	InitialPeriod     int
	MaximumTerm       int
	Status            Status
	CompletedBy       string
	CompletedAt       *time.Time
	TerminationReason string
	TerminationDate   *time.Time
	TerminatedBy      string
	CreatedBy         string
	CreatedAt         time.Time
	Version           int
	Items             []Item
	callOffID         string
}

// CallOffID is the order's public id: C + 6-digit number + - + 2-digit
// revision, such as C010001-01. The database makes it (orders.call_off_id,
// a generated column), so there is one copy of the format.
func (o Order) CallOffID() string { return o.callOffID }

// EndDate is the last day of the maximum term: commencement plus the
// maximum term, less one day (DOMAIN.md §4).
func (o Order) EndDate() time.Time { return EndDate(o.Commencement, o.MaximumTerm) }

// EndDate is the last day of a term of months starting on commencement.
func EndDate(commencement time.Time, months int) time.Time {
	return dates.AddMonths(commencement, months).AddDate(0, 0, -1)
}

// IsAmendment reports whether the revision amends an earlier one.
func (o Order) IsAmendment() bool { return o.Revision > 1 }

// Editable reports whether the revision can still be changed.
func (o Order) Editable() bool { return o.Status == InProgress }

// Item is a catalogue item on an order, with its price as it was when added.
type Item struct {
	ID                     int64
	CatalogueItemID        string
	Name                   string
	Kind                   string // org.KindSolution, ...
	ParentID               string
	UnitPrice              money.Amount
	PricingUnit            string
	PricingUnitDescription string
	TimeUnit               string // month, year, or "" for one-off
	ProvisioningType       string
	FundingTypeID          *int
	FundingType            string
	AddedInRevision        int
	Recipients             []Recipient
}

// PerPatient reports whether the price is per patient, so a recipient's
// quantity defaults to the practice's list size.
func (i Item) PerPatient() bool { return i.ProvisioningType == "patient" }

// Per says what the price is charged per: "per patient per year".
func (i Item) Per() string {
	return org.Price{UnitDescription: i.PricingUnitDescription, TimeUnit: i.TimeUnit}.Per()
}

// Recipient is a practice that receives an item.
type Recipient struct {
	ID              int64
	PracticeCode    string
	PracticeName    string
	Quantity        int
	PlannedDelivery *time.Time
	AddedInRevision int
	ListSize        *int
}

const orderColumns = `
	o.id, o.order_number, o.revision, o.ccg_code, c.name, o.supplier_id, s.name, o.description, o.commencement_date,
	o.initial_period_months, o.maximum_term_months, o.status, coalesce(cu.name, ''), o.completed_at,
	coalesce(o.termination_reason, ''), o.termination_date, coalesce(tu.name, ''), coalesce(ou.name, ''), o.created_at, o.version,
	o.call_off_id`

const orderFrom = `
	FROM orders o
	JOIN ccgs c ON c.code = o.ccg_code
	JOIN suppliers s ON s.id = o.supplier_id
	LEFT JOIN users cu ON cu.id = o.completed_by
	LEFT JOIN users tu ON tu.id = o.terminated_by
	LEFT JOIN users ou ON ou.id = o.created_by`

func scanOrder(row pgx.CollectableRow) (Order, error) {
	var o Order
	err := row.Scan(&o.ID, &o.Number, &o.Revision, &o.CCGCode, &o.CCGName, &o.SupplierID, &o.SupplierName, &o.Description,
		&o.Commencement, &o.InitialPeriod, &o.MaximumTerm, &o.Status, &o.CompletedBy, &o.CompletedAt,
		&o.TerminationReason, &o.TerminationDate, &o.TerminatedBy, &o.CreatedBy, &o.CreatedAt, &o.Version, &o.callOffID)
	return o, err
}

// Get returns one revision with its items and recipients, or NotFound when
// it does not exist or its CCG is outside the scope.
func Get(ctx context.Context, db postgres.Querier, scope org.Scope, callOffID string) (Order, error) {
	all, ccg := scope.SQLArgs()
	rows, err := db.Query(ctx, `SELECT `+orderColumns+orderFrom+`
		WHERE o.call_off_id = $1 AND ($2 OR o.ccg_code = $3)`, callOffID, all, ccg)
	if err != nil {
		return Order{}, fmt.Errorf("get order %s: %w", callOffID, err)
	}
	o, err := pgx.CollectExactlyOneRow(rows, scanOrder)
	if err != nil {
		return Order{}, postgres.NotFound(err, "No order has the call-off ID %s.", callOffID)
	}
	if o.Items, err = items(ctx, db, o.ID); err != nil {
		return Order{}, err
	}
	return o, nil
}

func items(ctx context.Context, db postgres.Querier, orderID int64) ([]Item, error) {
	rows, err := db.Query(ctx, `
		SELECT oi.id, oi.catalogue_item_id, ci.name, ci.kind, coalesce(ci.parent_id, ''), oi.unit_price::text, oi.pricing_unit,
		       oi.pricing_unit_description, coalesce(oi.time_unit, ''), oi.provisioning_type, oi.funding_type_id,
		       coalesce(ft.name, ''), oi.added_in_revision
		FROM order_items oi
		JOIN catalogue_items ci ON ci.id = oi.catalogue_item_id
		LEFT JOIN funding_types ft ON ft.id = oi.funding_type_id
		WHERE oi.order_id = $1
		ORDER BY CASE ci.kind WHEN 'solution' THEN 1 WHEN 'additional' THEN 2 ELSE 3 END, oi.catalogue_item_id`, orderID)
	if err != nil {
		return nil, fmt.Errorf("items of order %d: %w", orderID, err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Item, error) {
		var it Item
		var price string
		if err := row.Scan(&it.ID, &it.CatalogueItemID, &it.Name, &it.Kind, &it.ParentID, &price, &it.PricingUnit,
			&it.PricingUnitDescription, &it.TimeUnit, &it.ProvisioningType, &it.FundingTypeID, &it.FundingType, &it.AddedInRevision); err != nil {
			return it, err
		}
		var err error
		it.UnitPrice, err = money.Parse(price)
		return it, err
	})
	if err != nil {
		return nil, fmt.Errorf("items of order %d: %w", orderID, err)
	}
	index := map[int64]int{}
	for i, it := range list {
		index[it.ID] = i
	}
	rows, err = db.Query(ctx, `
		SELECT r.order_item_id, r.id, r.practice_code, p.name, r.quantity, r.planned_delivery_date, r.added_in_revision, p.list_size
		FROM order_recipients r
		JOIN order_items oi ON oi.id = r.order_item_id
		JOIN practices p ON p.code = r.practice_code
		WHERE oi.order_id = $1
		ORDER BY p.name, r.practice_code`, orderID)
	if err != nil {
		return nil, fmt.Errorf("recipients of order %d: %w", orderID, err)
	}
	var itemID int64
	var r Recipient
	_, err = pgx.ForEachRow(rows, []any{&itemID, &r.ID, &r.PracticeCode, &r.PracticeName, &r.Quantity, &r.PlannedDelivery, &r.AddedInRevision, &r.ListSize}, func() error {
		i := index[itemID]
		list[i].Recipients = append(list[i].Recipients, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("recipients of order %d: %w", orderID, err)
	}
	return list, nil
}

// Filter narrows the order list.
type Filter struct {
	Query  string // call-off id, description, supplier, or practice code or name
	Status Status // or empty
}

// Summary is one order in the list: its latest revision.
type Summary struct {
	Order
	RecipientCount int
	ItemCount      int
}

// List returns one page of orders in scope, newest first: each order
// number once, as its latest revision.
func List(ctx context.Context, db postgres.Querier, scope org.Scope, f Filter, page paging.Page) (paging.Result[Summary], error) {
	all, ccg := scope.SQLArgs()
	res, err := postgres.Paged(ctx, db, page, orderColumns+`,
		(SELECT count(DISTINCT r.practice_code) FROM order_recipients r JOIN order_items oi ON oi.id = r.order_item_id WHERE oi.order_id = o.id),
		(SELECT count(*) FROM order_items oi WHERE oi.order_id = o.id)`, orderFrom+`
		WHERE ($1 OR o.ccg_code = $2)
		  AND o.revision = (SELECT max(revision) FROM orders l WHERE l.order_number = o.order_number)
		  AND ($3 = '' OR o.status = $3)
		  AND ($4 = ''
		       OR o.call_off_id ILIKE '%' || $4 || '%'
		       OR o.description ILIKE '%' || $4 || '%'
		       OR s.name ILIKE '%' || $4 || '%'
		       OR EXISTS (SELECT 1 FROM order_recipients r JOIN order_items oi ON oi.id = r.order_item_id
		                  JOIN practices p ON p.code = r.practice_code
		                  WHERE oi.order_id = o.id AND (p.code = upper($4) OR p.name ILIKE '%' || $4 || '%')))`,
		`o.order_number DESC`, func(row pgx.CollectableRow) (Summary, error) {
			var s Summary
			o := &s.Order
			err := row.Scan(&o.ID, &o.Number, &o.Revision, &o.CCGCode, &o.CCGName, &o.SupplierID, &o.SupplierName, &o.Description,
				&o.Commencement, &o.InitialPeriod, &o.MaximumTerm, &o.Status, &o.CompletedBy, &o.CompletedAt,
				&o.TerminationReason, &o.TerminationDate, &o.TerminatedBy, &o.CreatedBy, &o.CreatedAt, &o.Version, &o.callOffID,
				&s.RecipientCount, &s.ItemCount)
			return s, err
		}, all, ccg, string(f.Status), f.Query)
	if err != nil {
		return res, fmt.Errorf("list orders: %w", err)
	}
	return res, nil
}

// Revision is one revision in an order's history, with what it added.
type Revision struct {
	ID              int64
	Number          int
	Revision        int
	CallOffID       string
	Status          Status
	CompletedAt     *time.Time
	CompletedBy     string
	ItemsAdded      []string
	RecipientsAdded int
}

// Revisions returns the history of an order number, oldest first.
func Revisions(ctx context.Context, db postgres.Querier, scope org.Scope, number int) ([]Revision, error) {
	all, ccg := scope.SQLArgs()
	rows, err := db.Query(ctx, `
		SELECT o.id, o.order_number, o.revision, o.call_off_id, o.status, o.completed_at, coalesce(u.name, ''),
		       coalesce((SELECT array_agg(ci.name ORDER BY ci.name) FROM order_items oi JOIN catalogue_items ci ON ci.id = oi.catalogue_item_id
		                 WHERE oi.order_id = o.id AND oi.added_in_revision = o.revision), '{}'),
		       (SELECT count(*) FROM order_recipients r JOIN order_items oi ON oi.id = r.order_item_id
		        WHERE oi.order_id = o.id AND r.added_in_revision = o.revision)
		FROM orders o LEFT JOIN users u ON u.id = o.completed_by
		WHERE o.order_number = $1 AND ($2 OR o.ccg_code = $3)
		ORDER BY o.revision`, number, all, ccg)
	if err != nil {
		return nil, fmt.Errorf("revisions of order %d: %w", number, err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Revision, error) {
		var r Revision
		err := row.Scan(&r.ID, &r.Number, &r.Revision, &r.CallOffID, &r.Status, &r.CompletedAt, &r.CompletedBy, &r.ItemsAdded, &r.RecipientsAdded)
		return r, err
	})
}
