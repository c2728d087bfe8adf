package order

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/audit"
	"ccgtracker/internal/org"
	"ccgtracker/internal/postgres"
)

// Field names of the item forms.
const (
	FieldItem    = "item"
	FieldFunding = "funding"
)

// Orderable is a catalogue item the order's supplier offers, with the
// price an item added now would snapshot.
type Orderable struct {
	org.Item
	Price org.Price
}

// Orderables lists what can be added to the order: the supplier's items
// that have a price and are not on it yet. An amendment may add only
// Additional Services of a solution on the order.
func Orderables(ctx context.Context, db postgres.Querier, o Order) ([]Orderable, error) {
	onOrder := map[string]bool{}
	for _, it := range o.Items {
		onOrder[it.CatalogueItemID] = true
	}
	items, err := org.ItemsOfSupplier(ctx, db, o.SupplierID)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	prices, err := org.FirstPrices(ctx, db, ids)
	if err != nil {
		return nil, err
	}
	var out []Orderable
	for _, it := range items {
		price, priced := prices[it.ID]
		if onOrder[it.ID] || !it.Published || !priced {
			continue
		}
		if o.IsAmendment() && (it.Kind != org.KindAdditional || !onOrder[it.ParentID]) {
			continue
		}
		out = append(out, Orderable{Item: it, Price: price})
	}
	return out, nil
}

// AddItem adds a catalogue item of the order's supplier, snapshotting its
// price: later catalogue changes never touch the order. An Additional
// Service needs its solution on the order first; an amendment may add
// only Additional Services. It returns the item as it is on the order.
func (s *Store) AddItem(ctx context.Context, a org.Actor, callOffID string, version int, itemID string) (Item, error) {
	now := s.now()
	var added Item
	err := postgres.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		added, err = AddItemTx(ctx, tx, now, a, callOffID, version, itemID)
		return err
	})
	return added, err
}

// AddItemTx is AddItem inside the caller's transaction, for a change that
// adds an item as part of itself (a procurement's award).
func AddItemTx(ctx context.Context, tx pgx.Tx, now time.Time, a org.Actor, callOffID string, version int, itemID string) (Item, error) {
	var added Item
	err := editTx(ctx, tx, a.Scope, callOffID, version, func(tx pgx.Tx, o Order) error {
		if itemID == "" {
			return apperr.Invalidf(FieldItem, "Select a catalogue item to add")
		}
		d, err := org.GetItem(ctx, tx, itemID)
		if apperr.Is(err, apperr.NotFound) || err == nil && d.SupplierID != o.SupplierID {
			return apperr.Invalidf(FieldItem, "Select one of %s's catalogue items", o.SupplierName)
		}
		if err != nil {
			return err
		}
		for _, it := range o.Items {
			if it.CatalogueItemID == itemID {
				return apperr.Invalidf(FieldItem, "%s is already on the order", d.Name)
			}
		}
		if d.Kind == org.KindAdditional && !hasItem(o, d.ParentID) {
			return apperr.Invalidf(FieldItem, "Add the Catalogue Solution %s before its Additional Service %s", d.ParentName, d.Name)
		}
		if o.IsAmendment() && d.Kind != org.KindAdditional {
			return apperr.Invalidf(FieldItem, "An amendment may add only Additional Services")
		}
		if len(d.Prices) == 0 {
			return apperr.Invalidf(FieldItem, "%s has no price in the catalogue, so it cannot be ordered", d.Name)
		}
		p := d.Prices[0]
		var timeUnit *string
		if p.TimeUnit != "" {
			timeUnit = &p.TimeUnit
		}
		added = Item{CatalogueItemID: itemID, Name: d.Name, Kind: d.Kind, ParentID: d.ParentID, UnitPrice: p.Price,
			PricingUnit: p.Unit, PricingUnitDescription: p.UnitDescription, TimeUnit: p.TimeUnit,
			ProvisioningType: p.ProvisioningType, AddedInRevision: o.Revision}
		if err := tx.QueryRow(ctx, `
			INSERT INTO order_items (order_id, catalogue_item_id, price_id, unit_price, pricing_unit, pricing_unit_description,
				time_unit, provisioning_type, added_in_revision)
			VALUES ($1, $2, $3, $4::numeric, $5, $6, $7, $8, $9)
			RETURNING id`,
			o.ID, itemID, p.ID, p.Price.Decimal(), p.Unit, p.UnitDescription, timeUnit, p.ProvisioningType, o.Revision).Scan(&added.ID); err != nil {
			return fmt.Errorf("add %s to %s: %w", itemID, callOffID, err)
		}
		return audit.Record(ctx, tx, audit.Event{
			At:         now,
			By:         a.ID,
			Action:     "order.add_item",
			EntityType: "order",
			EntityID:   callOffID,
			After:      map[string]any{"item": itemID, "unit_price": p.Price.Decimal(), "per": p.Per()},
		})
	})
	if err != nil {
		return Item{}, err
	}
	return added, nil
}

func hasItem(o Order, catalogueItemID string) bool {
	for _, it := range o.Items {
		if it.CatalogueItemID == catalogueItemID {
			return true
		}
	}
	return false
}

// itemOf finds an item of the order by its id.
func itemOf(o Order, orderItemID int64) (Item, bool) {
	for _, it := range o.Items {
		if it.ID == orderItemID {
			return it, true
		}
	}
	return Item{}, false
}

// RemoveItem takes an item, with its recipients, off an order in progress.
// An amendment cannot remove what an earlier revision ordered, nor a
// solution whose Additional Services are still on the order.
func (s *Store) RemoveItem(ctx context.Context, a org.Actor, callOffID string, version int, orderItemID int64) error {
	now := s.now()
	return s.edit(ctx, a.Scope, callOffID, version, func(tx pgx.Tx, o Order) error {
		it, ok := itemOf(o, orderItemID)
		if !ok {
			return apperr.New(apperr.NotFound, "That item is not on order %s.", callOffID)
		}
		if it.AddedInRevision < o.Revision {
			return apperr.New(apperr.Invalid, "%s was ordered in an earlier revision: an amendment cannot remove it.", it.Name)
		}
		for _, other := range o.Items {
			if other.ParentID == it.CatalogueItemID {
				return apperr.New(apperr.Invalid, "Remove the Additional Service %s before its solution %s.", other.Name, it.Name)
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM order_items WHERE id = $1`, orderItemID); err != nil {
			return fmt.Errorf("remove item %d: %w", orderItemID, err)
		}
		return audit.Record(ctx, tx, audit.Event{
			At:         now,
			By:         a.ID,
			Action:     "order.remove_item",
			EntityType: "order",
			EntityID:   callOffID,
			Before:     map[string]any{"item": it.CatalogueItemID, "recipients": len(it.Recipients)},
		})
	})
}

// SetFunding records how an item is funded (Central, Local, ...).
func (s *Store) SetFunding(ctx context.Context, a org.Actor, callOffID string, version int, orderItemID int64, fundingTypeID int) error {
	now := s.now()
	return s.edit(ctx, a.Scope, callOffID, version, func(tx pgx.Tx, o Order) error {
		it, ok := itemOf(o, orderItemID)
		if !ok {
			return apperr.New(apperr.NotFound, "That item is not on order %s.", callOffID)
		}
		if it.AddedInRevision < o.Revision {
			return apperr.New(apperr.Invalid, "%s was ordered in an earlier revision: its funding cannot change in an amendment.", it.Name)
		}
		tag, err := tx.Exec(ctx, `UPDATE order_items SET funding_type_id = $2 WHERE id = $1 AND EXISTS (SELECT 1 FROM funding_types WHERE id = $2)`,
			orderItemID, fundingTypeID)
		if err != nil {
			return fmt.Errorf("set funding of item %d: %w", orderItemID, err)
		}
		if tag.RowsAffected() == 0 {
			return apperr.Invalidf(FieldFunding, "Select how %s is funded", it.Name)
		}
		return audit.Record(ctx, tx, audit.Event{
			At:         now,
			By:         a.ID,
			Action:     "order.set_funding",
			EntityType: "order",
			EntityID:   callOffID,
			Before:     map[string]any{"item": it.CatalogueItemID, "funding": it.FundingTypeID},
			After:      map[string]any{"item": it.CatalogueItemID, "funding": fundingTypeID},
		})
	})
}

// FundingType is a way an item may be funded.
type FundingType struct {
	ID   int
	Name string
}

// FundingTypes lists the funding types an item may have.
func FundingTypes(ctx context.Context, db postgres.Querier) ([]FundingType, error) {
	rows, err := db.Query(ctx, `SELECT id, name FROM funding_types WHERE id > 0 ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("funding types: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[FundingType])
}
