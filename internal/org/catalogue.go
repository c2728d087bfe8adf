package org

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/money"
	"ccgtracker/internal/paging"
	"ccgtracker/internal/postgres"
)

// Item kinds, as in DOMAIN.md §2.
const (
	KindSolution   = "solution"
	KindAdditional = "additional"
	KindAssociated = "associated"
)

// KindName is a catalogue item kind in words.
func KindName(kind string) string {
	switch kind {
	case KindSolution:
		return "Catalogue Solution"
	case KindAdditional:
		return "Additional Service"
	case KindAssociated:
		return "Associated Service"
	}
	return kind
}

// Item is a catalogue item: a solution, additional or associated service.
type Item struct {
	ID           string
	Name         string
	Kind         string
	SupplierID   string
	SupplierName string
	ParentID     string // the solution of an Additional Service
	ParentName   string
	Published    bool
	Frameworks   []string // short names of the frameworks it is on
	PriceCount   int
}

// Price is one catalogue price of an item.
type Price struct {
	ID               int
	Price            money.Amount
	Unit             string // "patient", "practice", ...
	UnitDescription  string // "per patient"
	TimeUnit         string // "month", "year", or "" for one-off
	ProvisioningType string
	CalculationType  string
}

// Per describes what the price is charged per: "per patient per year".
func (p Price) Per() string {
	s := p.UnitDescription
	switch p.TimeUnit {
	case "month":
		s += " per month"
	case "year":
		s += " per year"
	default:
		s += ", one-off"
	}
	return s
}

// ItemFilter narrows the catalogue list.
type ItemFilter struct {
	Query    string // part of the name, item id or supplier name
	Kind     string // a Kind*, or empty
	Supplier string // a supplier id, or empty
}

const itemColumns = `
	i.id, i.name, i.kind, i.supplier_id, s.name, coalesce(i.parent_id, ''), coalesce(pi.name, ''), i.published,
	coalesce((SELECT array_agg(f.short_name ORDER BY f.short_name) FROM framework_solutions fs
	          JOIN frameworks f ON f.id = fs.framework_id WHERE fs.item_id = coalesce(i.parent_id, i.id)), '{}'),
	(SELECT count(*) FROM catalogue_prices cp WHERE cp.item_id = i.id)`

const itemFrom = `
	FROM catalogue_items i
	JOIN suppliers s ON s.id = i.supplier_id
	LEFT JOIN catalogue_items pi ON pi.id = i.parent_id`

func scanItem(row pgx.CollectableRow) (Item, error) {
	var it Item
	err := row.Scan(&it.ID, &it.Name, &it.Kind, &it.SupplierID, &it.SupplierName, &it.ParentID, &it.ParentName,
		&it.Published, &it.Frameworks, &it.PriceCount)
	return it, err
}

// SearchItems returns one page of catalogue items, by supplier then id.
func SearchItems(ctx context.Context, db postgres.Querier, f ItemFilter, page paging.Page) (paging.Result[Item], error) {
	res, err := postgres.Paged(ctx, db, page, itemColumns, itemFrom+`
		WHERE ($1 = '' OR i.name ILIKE '%' || $1 || '%' OR i.id = $1 OR s.name ILIKE '%' || $1 || '%')
		  AND ($2 = '' OR i.kind = $2)
		  AND ($3 = '' OR i.supplier_id = $3)`, `s.name, i.id`, scanItem, f.Query, f.Kind, f.Supplier)
	if err != nil {
		return res, fmt.Errorf("search catalogue: %w", err)
	}
	return res, nil
}

// ItemsOfSupplier lists every catalogue item of one supplier, for forms
// that offer them all.
func ItemsOfSupplier(ctx context.Context, db postgres.Querier, supplierID string) ([]Item, error) {
	rows, err := db.Query(ctx, `SELECT `+itemColumns+itemFrom+` WHERE i.supplier_id = $1 ORDER BY i.id`, supplierID)
	if err != nil {
		return nil, fmt.Errorf("items of supplier %s: %w", supplierID, err)
	}
	items, err := pgx.CollectRows(rows, scanItem)
	if err != nil {
		return nil, fmt.Errorf("items of supplier %s: %w", supplierID, err)
	}
	return items, nil
}

// ItemDetail is an item with its prices and its Additional Services.
type ItemDetail struct {
	Item
	Prices     []Price
	Additional []Item
}

// GetItem returns one catalogue item with its prices and additional services.
func GetItem(ctx context.Context, db postgres.Querier, id string) (ItemDetail, error) {
	rows, err := db.Query(ctx, `SELECT `+itemColumns+itemFrom+` WHERE i.id = $1`, id)
	if err != nil {
		return ItemDetail{}, fmt.Errorf("get catalogue item %s: %w", id, err)
	}
	item, err := pgx.CollectExactlyOneRow(rows, scanItem)
	if err != nil {
		return ItemDetail{}, postgres.NotFound(err, "No catalogue item has the id %s.", id)
	}
	d := ItemDetail{Item: item}

	prices, err := pricesOf(ctx, db, []string{id})
	if err != nil {
		return d, err
	}
	d.Prices = prices[id]

	rows, err = db.Query(ctx, `SELECT `+itemColumns+itemFrom+` WHERE i.parent_id = $1 ORDER BY i.id`, id)
	if err != nil {
		return d, fmt.Errorf("additional services of %s: %w", id, err)
	}
	if d.Additional, err = pgx.CollectRows(rows, scanItem); err != nil {
		return d, fmt.Errorf("additional services of %s: %w", id, err)
	}
	return d, nil
}

// Supplier is a supplier on the catalogue.
type Supplier struct {
	ID   string
	Name string
}

// ListSuppliers returns every supplier with at least one catalogue item.
func ListSuppliers(ctx context.Context, db postgres.Querier) ([]Supplier, error) {
	rows, err := db.Query(ctx, `
		SELECT s.id, s.name FROM suppliers s
		WHERE EXISTS (SELECT 1 FROM catalogue_items i WHERE i.supplier_id = s.id)
		ORDER BY s.name`)
	if err != nil {
		return nil, fmt.Errorf("list suppliers: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Supplier])
}

// FirstPrices returns the first price of each item that has one: the
// price an order adds it at. One query for any number of items.
func FirstPrices(ctx context.Context, db postgres.Querier, itemIDs []string) (map[string]Price, error) {
	all, err := pricesOf(ctx, db, itemIDs)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Price, len(all))
	for id, ps := range all {
		out[id] = ps[0]
	}
	return out, nil
}

// pricesOf returns the prices of the items, each item's in id order.
func pricesOf(ctx context.Context, db postgres.Querier, itemIDs []string) (map[string][]Price, error) {
	rows, err := db.Query(ctx, `
		SELECT cp.item_id, cp.id, cp.price::text, pu.name, pu.description, coalesce(cp.time_unit, ''),
		       cp.provisioning_type, cp.calculation_type
		FROM catalogue_prices cp JOIN pricing_units pu ON pu.id = cp.pricing_unit_id
		WHERE cp.item_id = ANY($1) ORDER BY cp.item_id, cp.id`, itemIDs)
	if err != nil {
		return nil, fmt.Errorf("prices: %w", err)
	}
	out := map[string][]Price{}
	var itemID, amount string
	var p Price
	_, err = pgx.ForEachRow(rows, []any{&itemID, &p.ID, &amount, &p.Unit, &p.UnitDescription, &p.TimeUnit, &p.ProvisioningType, &p.CalculationType}, func() error {
		var err error
		if p.Price, err = money.Parse(amount); err != nil {
			return err
		}
		out[itemID] = append(out[itemID], p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("prices: %w", err)
	}
	return out, nil
}
