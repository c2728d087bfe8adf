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
	"ccgtracker/internal/ledger"
	"ccgtracker/internal/org"
	"ccgtracker/internal/postgres"
)

// Problems lists what stops an order in progress from being completed,
// section by section, in words; empty when it can be signed.
func Problems(o Order) []string {
	var out []string
	if len(o.Items) == 0 {
		out = append(out, "Add at least one catalogue item")
	}
	hasSolution := false
	for _, it := range o.Items {
		if it.Kind == org.KindSolution {
			hasSolution = true
		}
		if it.FundingTypeID == nil {
			out = append(out, fmt.Sprintf("Select how %s is funded", it.Name))
		}
		if len(it.Recipients) == 0 {
			out = append(out, fmt.Sprintf("Add the practices that receive %s", it.Name))
		}
		missing := 0
		for _, r := range it.Recipients {
			if r.PlannedDelivery == nil {
				missing++
			}
		}
		if missing > 0 {
			out = append(out, fmt.Sprintf("Enter a planned delivery date for %d %s of %s", missing, plural(missing, "practice"), it.Name))
		}
	}
	// An order of Additional Services alone makes no sense without its
	// solution; Associated Services may be ordered on their own.
	for _, it := range o.Items {
		if it.Kind == org.KindAdditional && !hasSolution && !hasItem(o, it.ParentID) {
			out = append(out, fmt.Sprintf("Add the solution of %s", it.Name))
		}
	}
	return out
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// Complete signs an order in progress: it records who and when, creates a
// planned service instance per item × recipient that this revision added,
// and supersedes the revision it amends, in one transaction. Two people
// completing at once: the second is told the order changed.
func (s *Store) Complete(ctx context.Context, a org.Actor, callOffID string, version int) error {
	now := s.now()
	return postgres.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		o, err := lock(ctx, tx, a.Scope, callOffID)
		if err != nil {
			return err
		}
		if !o.Editable() {
			return ErrNotEditable(o)
		}
		if o.Version != version {
			return ErrChanged(callOffID)
		}
		if p := Problems(o); len(p) > 0 {
			return apperr.New(apperr.Invalid, "Order %s cannot be completed yet: %s.", callOffID, strings.Join(p, "; "))
		}
		if o.IsAmendment() {
			// The order it amends must still be in force: terminated while
			// the amendment was open, it stays terminated.
			var prev Status
			var amended string
			if err := tx.QueryRow(ctx, `SELECT status, call_off_id FROM orders WHERE order_number = $1 AND revision = $2 FOR UPDATE`,
				o.Number, o.Revision-1).Scan(&prev, &amended); err != nil {
				return fmt.Errorf("revision amended by %s: %w", callOffID, err)
			}
			if prev != Completed {
				return apperr.New(apperr.Conflict, "Order %s amends %s, which is %s now, so the amendment cannot be completed.",
					callOffID, amended, strings.ToLower(prev.Name()))
			}
		}
		if _, err := tx.Exec(ctx, `
			UPDATE orders SET status = 'superseded', version = version + 1
			WHERE order_number = $1 AND revision < $2 AND status = 'completed'`, o.Number, o.Revision); err != nil {
			return fmt.Errorf("supersede earlier revisions: %w", err)
		}
		if _, err := tx.Exec(ctx, `
			UPDATE orders SET status = 'completed', completed_by = $2, completed_at = $3, version = version + 1
			WHERE id = $1`, o.ID, a.ID, now); err != nil {
			return fmt.Errorf("complete %s: %w", callOffID, err)
		}
		var fresh []ledger.NewInstance
		for _, it := range o.Items {
			rule := ledger.QuantityFixed
			if it.PerPatient() {
				rule = ledger.QuantityListSize
			}
			for _, r := range it.Recipients {
				if r.AddedInRevision != o.Revision {
					continue // its service exists since the revision that added it
				}
				fresh = append(fresh, ledger.NewInstance{
					CCGCode: o.CCGCode, PracticeCode: r.PracticeCode, ItemID: it.CatalogueItemID, SupplierID: o.SupplierID,
					OrderID: &o.ID, OrderRecipientID: &r.ID, UnitPrice: it.UnitPrice, PricingUnit: it.PricingUnit,
					TimeUnit: it.TimeUnit, QuantityRule: rule, Quantity: r.Quantity, PlannedM1: r.PlannedDelivery, State: ledger.Planned,
				})
			}
		}
		if _, err := ledger.CreateTx(ctx, tx, now, a, "order "+callOffID+" completed", fresh); err != nil {
			return err
		}
		_, total := OrderCost(o)
		return audit.Record(ctx, tx, audit.Event{
			At:         now,
			By:         a.ID,
			Action:     "order.complete",
			EntityType: "order",
			EntityID:   callOffID,
			Before:     map[string]any{"status": o.Status},
			After:      map[string]any{"status": Completed, "service_instances": len(fresh), "total": total.Total.Decimal()},
		})
	})
}

// Amend starts the next revision of a completed order: a copy of it, in
// progress, to which recipients and Additional Services may be added.
// It returns the new revision's call-off ID.
func (s *Store) Amend(ctx context.Context, a org.Actor, callOffID string, version int) (string, error) {
	now := s.now()
	var next string
	err := postgres.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		o, err := lock(ctx, tx, a.Scope, callOffID)
		if err != nil {
			return err
		}
		if o.Version != version {
			return ErrChanged(callOffID)
		}
		if o.Status != Completed {
			return apperr.New(apperr.Conflict, "Only the order in force can be amended, and %s is %s.", callOffID, strings.ToLower(o.Status.Name()))
		}
		var newID int64
		err = tx.QueryRow(ctx, `
			INSERT INTO orders (order_number, revision, ccg_code, supplier_id, description, commencement_date,
				initial_period_months, maximum_term_months, created_by, created_at)
			SELECT order_number, revision + 1, ccg_code, supplier_id, description, commencement_date,
				initial_period_months, maximum_term_months, $2, $3
			FROM orders WHERE id = $1
			RETURNING id, call_off_id`, o.ID, a.ID, now).Scan(&newID, &next)
		if postgres.IsUniqueViolation(err) {
			return apperr.New(apperr.Conflict, "An amendment of this order is already in progress.")
		}
		if err != nil {
			return fmt.Errorf("amend %s: %w", callOffID, err)
		}
		// Items and recipients are copied with the revision that added them,
		// so the new revision shows everything in force and knows what it adds.
		if _, err := tx.Exec(ctx, `
			WITH copied AS (
				INSERT INTO order_items (order_id, catalogue_item_id, price_id, unit_price, pricing_unit, pricing_unit_description,
					time_unit, provisioning_type, funding_type_id, added_in_revision)
				SELECT $2, catalogue_item_id, price_id, unit_price, pricing_unit, pricing_unit_description,
					time_unit, provisioning_type, funding_type_id, added_in_revision
				FROM order_items WHERE order_id = $1
				RETURNING id, catalogue_item_id)
			INSERT INTO order_recipients (order_item_id, practice_code, quantity, planned_delivery_date, added_in_revision)
			SELECT c.id, r.practice_code, r.quantity, r.planned_delivery_date, r.added_in_revision
			FROM copied c
			JOIN order_items old ON old.order_id = $1 AND old.catalogue_item_id = c.catalogue_item_id
			JOIN order_recipients r ON r.order_item_id = old.id`, o.ID, newID); err != nil {
			return fmt.Errorf("copy %s: %w", callOffID, err)
		}
		if _, err := tx.Exec(ctx, `UPDATE orders SET version = version + 1 WHERE id = $1`, o.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{
			At:         now,
			By:         a.ID,
			Action:     "order.amend",
			EntityType: "order",
			EntityID:   next,
			Before:     map[string]any{"amends": callOffID},
		})
	})
	return next, err
}

// The fields of a termination by meaning, the keys of field errors.
const (
	FieldReason          = "reason"
	FieldTerminationDate = "termination"
)

// CheckTermination says what is wrong with a termination's reason and
// date, as an Invalid error (nil: nothing); a zero date is not checked,
// as the form reports it.
func CheckTermination(reason string, date time.Time, now time.Time) error {
	if errs := terminationProblems(reason, date, now); len(errs) > 0 {
		return invalid("The order could not be terminated", errs)
	}
	return nil
}

func terminationProblems(reason string, date time.Time, now time.Time) map[string]string {
	errs := map[string]string{}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		errs[FieldReason] = "Enter the reason the order is terminated"
	} else if len([]rune(reason)) > 1000 {
		errs[FieldReason] = "Reason must be 1,000 characters or fewer"
	}
	if !date.IsZero() && !date.After(dates.Today(now)) {
		errs[FieldTerminationDate] = "Termination date must be in the future"
	}
	return errs
}

// Terminate ends the order in force on a future date, for a reason. Its
// service instances get that date as their cessation date; they cease
// (or, never live, are cancelled) when the date comes.
func (s *Store) Terminate(ctx context.Context, a org.Actor, callOffID string, version int, reason string, date time.Time) error {
	now := s.now()
	reason = strings.TrimSpace(reason)
	errs := terminationProblems(reason, date, now)
	if date.IsZero() {
		errs[FieldTerminationDate] = "Enter the termination date"
	}
	if len(errs) > 0 {
		return invalid("The order could not be terminated", errs)
	}
	return postgres.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		o, err := lock(ctx, tx, a.Scope, callOffID)
		if err != nil {
			return err
		}
		if o.Version != version {
			return ErrChanged(callOffID)
		}
		if o.Status != Completed {
			return apperr.New(apperr.Conflict, "Only the order in force can be terminated, and %s is %s.", callOffID, strings.ToLower(o.Status.Name()))
		}
		var amending bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM orders WHERE order_number = $1 AND status = 'in_progress')`, o.Number).Scan(&amending); err != nil {
			return fmt.Errorf("amendments of %s: %w", callOffID, err)
		}
		if amending {
			return apperr.New(apperr.Conflict, "An amendment of order %s is in progress: complete it first, then terminate the order it makes.", callOffID)
		}
		if date.After(o.EndDate()) {
			return invalid("The order could not be terminated", map[string]string{
				FieldTerminationDate: fmt.Sprintf("Termination date must be on or before %s, the end of the order", dates.Long(o.EndDate()))})
		}
		if _, err := tx.Exec(ctx, `
			UPDATE orders SET status = 'terminated', termination_reason = $2, termination_date = $3, terminated_by = $4,
				terminated_at = $5, version = version + 1
			WHERE id = $1`, o.ID, reason, date, a.ID, now); err != nil {
			return fmt.Errorf("terminate %s: %w", callOffID, err)
		}
		rows, err := tx.Query(ctx, `
			SELECT si.id FROM service_instances si JOIN orders r ON r.id = si.order_id
			WHERE r.order_number = $1 AND si.state IN ('planned', 'active')
			  AND (si.cessation_date IS NULL OR si.cessation_date > $2)
			ORDER BY si.id`, o.Number, date)
		if err != nil {
			return fmt.Errorf("services of %s: %w", callOffID, err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := ledger.ChangeTx(ctx, tx, now, a, id, "order "+callOffID+" terminated", nil, func(i *ledger.Instance) error {
				if i.ActualM1 != nil && date.Before(*i.ActualM1) {
					return invalid("The order could not be terminated", map[string]string{FieldTerminationDate: fmt.Sprintf(
						"Termination date must be on or after %s, when %s went live at %s", dates.Long(*i.ActualM1), i.ItemName, i.PracticeName)})
				}
				d := date
				i.Cessation = &d
				return nil
			}); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, audit.Event{
			At:         now,
			By:         a.ID,
			Action:     "order.terminate",
			EntityType: "order",
			EntityID:   callOffID,
			Before:     map[string]any{"status": o.Status},
			After:      map[string]any{"status": Terminated, "reason": reason, "date": date.Format(time.DateOnly), "service_instances": len(ids)},
		})
	})
}
