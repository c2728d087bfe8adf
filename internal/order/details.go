package order

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/audit"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/org"
	"ccgtracker/internal/postgres"
)

// MaximumTermLimit is the longest term a GP IT Futures call-off may run.
const MaximumTermLimit = 36

// CommencementLookback is how far in the past an order may commence.
const CommencementLookback = 3 // months

// Details are what a buyer enters to start an order.
type Details struct {
	CCGCode       string
	SupplierID    string
	Description   string
	Commencement  time.Time
	InitialPeriod int
	MaximumTerm   int
}

// The fields of Details by meaning, the keys of field errors (the views
// map them to their inputs).
const (
	FieldCCG           = "ccg"
	FieldSupplier      = "supplier"
	FieldDescription   = "description"
	FieldCommencement  = "commencement"
	FieldInitialPeriod = "initial-period"
	FieldMaximumTerm   = "maximum-term"
)

func errNoOrder(callOffID string) error {
	return apperr.New(apperr.NotFound, "No order has the call-off ID %s.", callOffID)
}

// ErrChanged is returned when the order changed since the person loaded
// it: their change is refused, never silently applied over another's.
func ErrChanged(callOffID string) error {
	return apperr.New(apperr.Conflict, "Order %s was changed by someone else while you were working on it. Check the order as it is now, then make your change again.", callOffID)
}

// ErrNotEditable is returned for a change to a completed or terminated revision.
func ErrNotEditable(o Order) error {
	return apperr.New(apperr.Conflict, "Order %s is %s, so it cannot be changed. To add to a completed order, amend it.", o.CallOffID(), strings.ToLower(o.Status.Name()))
}

// Validate checks the details against DOMAIN.md §4 on the London day of
// now, and returns every problem keyed by form field.
func (d *Details) Validate(now time.Time) map[string]string {
	errs := map[string]string{}
	d.Description = strings.TrimSpace(d.Description)
	d.CCGCode = strings.ToUpper(strings.TrimSpace(d.CCGCode))
	switch {
	case d.Description == "":
		errs[FieldDescription] = "Enter a description of the order"
	case len([]rune(d.Description)) > 500:
		errs[FieldDescription] = "Description must be 500 characters or fewer"
	}
	if d.CCGCode == "" {
		errs[FieldCCG] = "Select the CCG the order is for"
	}
	if d.SupplierID == "" {
		errs[FieldSupplier] = "Select a supplier"
	}
	if !d.Commencement.IsZero() {
		earliest := dates.AddMonths(dates.Today(now), -CommencementLookback)
		if d.Commencement.Before(earliest) {
			errs[FieldCommencement] = fmt.Sprintf("Commencement date must be on or after %s (no more than %d months ago)", dates.Long(earliest), CommencementLookback)
		}
	}
	switch {
	case d.InitialPeriod < 1:
		errs[FieldInitialPeriod] = "Initial period must be 1 month or more"
	case d.InitialPeriod >= MaximumTermLimit:
		errs[FieldInitialPeriod] = fmt.Sprintf("Initial period must be less than %d months", MaximumTermLimit)
	}
	switch {
	case d.MaximumTerm < 1:
		errs[FieldMaximumTerm] = "Maximum term must be 1 month or more"
	case d.MaximumTerm > MaximumTermLimit:
		errs[FieldMaximumTerm] = fmt.Sprintf("Maximum term must be %d months or fewer", MaximumTermLimit)
	case d.InitialPeriod >= 1 && d.MaximumTerm <= d.InitialPeriod:
		errs[FieldMaximumTerm] = "Maximum term must be longer than the initial period"
	}
	return errs
}

// Check is Validate as the domain's verdict on a new order's details: an
// Invalid error with every problem, or nil.
func (d *Details) Check(now time.Time) error {
	if errs := d.Validate(now); len(errs) > 0 {
		return invalid("The order could not be created", errs)
	}
	return nil
}

func invalid(msg string, fields map[string]string) error {
	return &apperr.Error{Code: apperr.Invalid, Message: msg, Fields: fields}
}

// Create starts a new order, revision 01, in progress. A buyer may create
// orders only for their own CCG (the scope); a reviewer for any.
func (s *Store) Create(ctx context.Context, a org.Actor, d Details) (Order, error) {
	now := s.now()
	var o Order
	err := postgres.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		o, err = CreateTx(ctx, tx, now, a, d)
		return err
	})
	return o, err
}

// CreateTx is Create inside the caller's transaction, for a change that
// creates an order as part of itself (a procurement's award).
func CreateTx(ctx context.Context, tx pgx.Tx, now time.Time, a org.Actor, d Details) (Order, error) {
	errs := d.Validate(now)
	if d.CCGCode != "" && !a.Scope.Allows(d.CCGCode) {
		errs[FieldCCG] = "Select a CCG you order for"
	}
	if len(errs) > 0 {
		return Order{}, invalid("The order could not be created", errs)
	}
	if err := checkSupplierAndCCG(ctx, tx, d); err != nil {
		return Order{}, err
	}
	var callOff string
	err := tx.QueryRow(ctx, `
		INSERT INTO orders (order_number, revision, ccg_code, supplier_id, description, commencement_date,
			initial_period_months, maximum_term_months, created_by, created_at)
		VALUES (nextval('order_numbers'), 1, $1, $2, $3, $4, $5, $6, $7, $8)
		RETURNING call_off_id`,
		d.CCGCode, d.SupplierID, d.Description, d.Commencement, d.InitialPeriod, d.MaximumTerm, a.ID, now).Scan(&callOff)
	if err != nil {
		return Order{}, fmt.Errorf("create order: %w", err)
	}
	if err := audit.Record(ctx, tx, audit.Event{
		At:         now,
		By:         a.ID,
		Action:     "order.create",
		EntityType: "order",
		EntityID:   callOff,
		After:      detailsView(d),
	}); err != nil {
		return Order{}, err
	}
	return Get(ctx, tx, a.Scope, callOff)
}

func checkSupplierAndCCG(ctx context.Context, tx pgx.Tx, d Details) error {
	var supplierOK, ccgOK bool
	if err := tx.QueryRow(ctx, `
		SELECT EXISTS (SELECT 1 FROM suppliers s WHERE s.id = $1 AND NOT s.deleted
		               AND EXISTS (SELECT 1 FROM catalogue_items i WHERE i.supplier_id = s.id)),
		       EXISTS (SELECT 1 FROM ccgs WHERE code = $2 AND active)`, d.SupplierID, d.CCGCode).Scan(&supplierOK, &ccgOK); err != nil {
		return fmt.Errorf("check supplier and CCG: %w", err)
	}
	errs := map[string]string{}
	if !supplierOK {
		errs[FieldSupplier] = "Select a supplier from the list"
	}
	if !ccgOK {
		errs[FieldCCG] = "Select a CCG from the list"
	}
	if len(errs) > 0 {
		return invalid("The order could not be saved", errs)
	}
	return nil
}

func detailsView(d Details) map[string]any {
	return map[string]any{
		"ccg": d.CCGCode, "supplier": d.SupplierID, "description": d.Description,
		"commencement": d.Commencement.Format(time.DateOnly), "initial_period": d.InitialPeriod, "maximum_term": d.MaximumTerm,
	}
}

// UpdateDetails changes the details of an order that is in progress and is
// not an amendment. version is the version the person saw.
func (s *Store) UpdateDetails(ctx context.Context, a org.Actor, callOffID string, version int, d Details) error {
	now := s.now()
	return s.edit(ctx, a.Scope, callOffID, version, func(tx pgx.Tx, o Order) error {
		if o.IsAmendment() {
			return apperr.New(apperr.Invalid, "An amendment cannot change the order's details: it may only add recipients or Additional Services.")
		}
		d.CCGCode = o.CCGCode
		errs := d.Validate(now)
		if o.SupplierID != d.SupplierID && len(o.Items) > 0 {
			errs[FieldSupplier] = "Remove the order's items before changing the supplier"
		}
		for _, it := range o.Items {
			for _, r := range it.Recipients {
				if r.PlannedDelivery != nil && (r.PlannedDelivery.Before(d.Commencement) || r.PlannedDelivery.After(EndDate(d.Commencement, d.MaximumTerm))) {
					errs[FieldCommencement] = fmt.Sprintf("The planned delivery date of %s (%s) would fall outside the new term: change it first", r.PracticeName, dates.Long(*r.PlannedDelivery))
				}
			}
		}
		if len(errs) > 0 {
			return invalid("The order could not be saved", errs)
		}
		if err := checkSupplierAndCCG(ctx, tx, d); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			UPDATE orders SET supplier_id = $2, description = $3, commencement_date = $4, initial_period_months = $5, maximum_term_months = $6
			WHERE id = $1`, o.ID, d.SupplierID, d.Description, d.Commencement, d.InitialPeriod, d.MaximumTerm); err != nil {
			return fmt.Errorf("update order %s: %w", callOffID, err)
		}
		before := detailsView(Details{CCGCode: o.CCGCode, SupplierID: o.SupplierID, Description: o.Description, Commencement: o.Commencement, InitialPeriod: o.InitialPeriod, MaximumTerm: o.MaximumTerm})
		return audit.Record(ctx, tx, audit.Event{
			At:         now,
			By:         a.ID,
			Action:     "order.update",
			EntityType: "order",
			EntityID:   callOffID,
			Before:     before,
			After:      detailsView(d),
		})
	})
}

// edit runs fn on an in-progress revision, locked, after checking that
// nobody changed it since version; the version then moves on, all in one
// transaction with whatever fn writes.
func (s *Store) edit(ctx context.Context, scope org.Scope, callOffID string, version int, fn func(pgx.Tx, Order) error) error {
	return postgres.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		return editTx(ctx, tx, scope, callOffID, version, fn)
	})
}

func editTx(ctx context.Context, tx pgx.Tx, scope org.Scope, callOffID string, version int, fn func(pgx.Tx, Order) error) error {
	o, err := lock(ctx, tx, scope, callOffID)
	if err != nil {
		return err
	}
	if !o.Editable() {
		return ErrNotEditable(o)
	}
	if o.Version != version {
		return ErrChanged(callOffID)
	}
	if err := fn(tx, o); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE orders SET version = version + 1 WHERE id = $1`, o.ID)
	return err
}

// lock reads a revision in scope FOR UPDATE: whoever locks second waits,
// then sees the first one's change and version.
func lock(ctx context.Context, tx pgx.Tx, scope org.Scope, callOffID string) (Order, error) {
	all, ccg := scope.SQLArgs()
	tag, err := tx.Exec(ctx, `SELECT 1 FROM orders WHERE call_off_id = $1 AND ($2 OR ccg_code = $3) FOR UPDATE`,
		callOffID, all, ccg)
	if err != nil {
		return Order{}, fmt.Errorf("lock order %s: %w", callOffID, err)
	}
	if tag.RowsAffected() == 0 {
		return Order{}, errNoOrder(callOffID)
	}
	return Get(ctx, tx, scope, callOffID)
}
