package procurement

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/order"
	"ccgtracker/internal/org"
	"ccgtracker/internal/postgres"
)

// ErrOrderInProgress: Manage your contract before the award's order is
// completed.
var ErrOrderInProgress = errors.New("order not completed")

// AwardInput is the award form: the winning solution and the call-off
// order's term.
type AwardInput struct {
	ItemID string
	// Commencement is zero when no date was given (a form that could not
	// read the date reports that itself).
	Commencement  time.Time
	InitialPeriod int
	MaximumTerm   int
}

// DefaultWinner is the solution the award form offers first: the
// top-ranked for a Further Competition, the one shortlisted for a Direct
// Award; "" when the shortlist is empty.
func DefaultWinner(p Procurement) string {
	if r := Ranking(p); len(r) > 0 {
		return r[0].ItemID
	}
	return ""
}

// OrderDescription is the description the award's order starts with: the
// procurement's name and the solution, and the procurement it came from so
// the order list shows where it came from.
func OrderDescription(p Procurement, s Solution) string {
	d := fmt.Sprintf("%s: %s (procurement %d)", p.Name, s.Name, p.ID)
	if r := []rune(d); len(r) > descriptionLimit {
		d = string(r[:descriptionLimit])
	}
	return d
}

// CheckAward validates an award form without writing anything, so a form
// with its own problems (a date it could not read) can show every problem
// at once.
func CheckAward(ctx context.Context, db postgres.Querier, now time.Time, p Procurement, in AwardInput) error {
	_, _, err := checkAward(ctx, db, now, p, in)
	return err
}

// checkAward validates the award form against the procurement and the
// order rules, before anything is written: the order functions would
// refuse the same things, but only after an order had been started.
func checkAward(ctx context.Context, db postgres.Querier, now time.Time, p Procurement, in AwardInput) (Solution, order.Details, error) {
	errs := map[string]string{}
	winner, ok := p.Solution(in.ItemID)
	if !ok {
		errs[FieldWinner] = "Select the winning solution from the shortlist"
	} else {
		d, err := org.GetItem(ctx, db, winner.ItemID)
		if err != nil {
			return winner, order.Details{}, err
		}
		if !d.Published || len(d.Prices) == 0 {
			errs[FieldWinner] = fmt.Sprintf("%s is no longer published on the catalogue with a price, so it cannot be ordered", d.Name)
		}
	}
	d := order.Details{CCGCode: p.CCGCode, SupplierID: winner.SupplierID, Description: OrderDescription(p, winner),
		Commencement: in.Commencement, InitialPeriod: in.InitialPeriod, MaximumTerm: in.MaximumTerm}
	for k, v := range d.Validate(now) {
		if k == order.FieldSupplier && !ok {
			continue // the winner's problem, said once
		}
		errs[k] = v
	}
	if in.Commencement.IsZero() {
		errs[FieldCommencement] = "Enter the commencement date"
	}
	if len(errs) > 0 {
		return winner, d, invalid("The contract could not be awarded", errs)
	}
	return winner, d, nil
}

// Award completes the contract award: it creates a call-off order for the
// CCG with the winning solution's supplier, pre-filled with the
// description, commencement date, initial period and maximum term, adds
// the solution to it, links it to the procurement and completes the step.
// It returns the order's call-off ID.
//
// The order package opens its own transactions, so this cannot be one
// transaction; it is made safe to interrupt and to repeat instead:
//
//  1. Everything is validated before anything is written.
//  2. A claim moves the procurement's version on, so a second award of
//     the same version (a double click, a colleague) is refused before it
//     creates anything.
//  3. The order is created and, at once, linked to the procurement
//     (procurements.order_id) with an audit record.
//  4. The order is brought in line with the award: the solution added
//     (and, when an earlier attempt left an order, its details and items
//     corrected).
//  5. The step is completed, with its audit record, only if the
//     procurement is still as claimed and still linked to that order.
//
// Stopped half-way, a retry carries on with the linked order rather than
// making another; the procurement shows the award in progress with its
// order until then. Only a stop between creating the order and linking it
// (a single round trip) leaves an unlinked order: in progress and empty,
// so nothing counts it, and its description names the procurement.
func Award(ctx context.Context, pool *pgxpool.Pool, now time.Time, actorID *int64, scope org.Scope, id int64, version int, in AwardInput) (string, error) {
	p, err := Get(ctx, pool, scope, id)
	if err != nil {
		return "", err
	}
	if p.Version != version {
		return "", errChanged(id)
	}
	if err := p.checkOpen(StepAward); err != nil {
		return "", err
	}
	winner, d, err := checkAward(ctx, pool, now, p, in)
	if err != nil {
		return "", err
	}

	claimed := version + 1
	if err := postgres.Tx(ctx, pool, func(tx pgx.Tx) error {
		q, err := lock(ctx, tx, scope, id)
		if err != nil {
			return err
		}
		if q.Version != version || q.CallOffID != p.CallOffID {
			return errChanged(id)
		}
		_, err = tx.Exec(ctx, `UPDATE procurements SET version = $2 WHERE id = $1`, id, claimed)
		return err
	}); err != nil {
		return "", err
	}

	callOff := p.CallOffID
	if p.OrderID == nil {
		o, err := order.Create(ctx, pool, now, actorID, scope, d)
		if err != nil {
			return "", err
		}
		callOff = o.CallOffID()
		if err := postgres.Tx(ctx, pool, func(tx pgx.Tx) error {
			q, err := lock(ctx, tx, scope, id)
			if err != nil {
				return err
			}
			if q.Version != claimed || q.OrderID != nil {
				return errChanged(id)
			}
			if _, err := tx.Exec(ctx, `UPDATE procurements SET order_id = $2 WHERE id = $1`, id, o.ID); err != nil {
				return fmt.Errorf("link order %s to procurement %d: %w", callOff, id, err)
			}
			return record(ctx, tx, now, actorID, "procurement.award_order", id, nil, map[string]any{"order": callOff, "item": winner.ItemID})
		}); err != nil {
			return "", err
		}
	}

	if err := alignOrder(ctx, pool, now, actorID, scope, callOff, winner, d); err != nil {
		return "", err
	}

	err = edit(ctx, pool, scope, id, claimed, func(tx pgx.Tx, q Procurement) error {
		if err := q.checkOpen(StepAward); err != nil {
			return err
		}
		if q.CallOffID != callOff {
			return errChanged(id)
		}
		if err := setStep(ctx, tx, now, actorID, id, StepAward, Completed); err != nil {
			return err
		}
		return record(ctx, tx, now, actorID, "procurement.award", id, nil, map[string]any{
			"order": callOff, "item": winner.ItemID, "supplier": winner.SupplierID,
			"commencement": d.Commencement.Format(time.DateOnly), "initial_period": d.InitialPeriod, "maximum_term": d.MaximumTerm,
		})
	})
	return callOff, err
}

// alignOrder makes the award's order what the award says: the winner's
// supplier and the term, with the winning solution on it. A fresh order
// only needs the solution; an order left by an interrupted award may have
// been started for another winner or term.
func alignOrder(ctx context.Context, pool *pgxpool.Pool, now time.Time, actorID *int64, scope org.Scope, callOff string, winner Solution, d order.Details) error {
	o, err := order.Get(ctx, pool, scope, callOff)
	if err != nil {
		return err
	}
	if !o.Editable() {
		// Completed from the order pages before the award was recorded:
		// the signed order stands, if it is for the winner.
		if hasItem(o, winner.ItemID) {
			return nil
		}
		return apperr.New(apperr.Conflict, "Order %s, started for this award, is already %s without %s. Award the solution it orders.",
			callOff, strings.ToLower(o.Status.Name()), winner.Name)
	}
	if o.SupplierID != d.SupplierID || !hasItem(o, winner.ItemID) {
		// Another winner: empty the order, Additional Services before the
		// solutions they belong to.
		items := o.Items
		for _, additional := range []bool{true, false} {
			for _, it := range items {
				if (it.Kind == org.KindAdditional) != additional {
					continue
				}
				if o, err = order.Get(ctx, pool, scope, callOff); err != nil {
					return err
				}
				if err := order.RemoveItem(ctx, pool, now, actorID, scope, callOff, o.Version, it.ID); err != nil {
					return err
				}
			}
		}
		if o, err = order.Get(ctx, pool, scope, callOff); err != nil {
			return err
		}
	}
	if o.SupplierID != d.SupplierID || o.Description != d.Description || !o.Commencement.Equal(d.Commencement) ||
		o.InitialPeriod != d.InitialPeriod || o.MaximumTerm != d.MaximumTerm {
		if err := order.UpdateDetails(ctx, pool, now, actorID, scope, callOff, o.Version, d); err != nil {
			return err
		}
		if o, err = order.Get(ctx, pool, scope, callOff); err != nil {
			return err
		}
	}
	if hasItem(o, winner.ItemID) {
		return nil
	}
	return order.AddItem(ctx, pool, now, actorID, scope, callOff, o.Version, winner.ItemID)
}

func hasItem(o order.Order, catalogueItemID string) bool {
	for _, it := range o.Items {
		if it.CatalogueItemID == catalogueItemID {
			return true
		}
	}
	return false
}

// CompleteManage completes Manage your contract, once the award's order is
// completed: its services are then on the tracker.
func CompleteManage(ctx context.Context, pool *pgxpool.Pool, now time.Time, actorID *int64, scope org.Scope, id int64, version int) error {
	return edit(ctx, pool, scope, id, version, func(tx pgx.Tx, p Procurement) error {
		if err := p.checkOpen(StepManage); err != nil {
			return err
		}
		if !p.OrderSigned() {
			return &apperr.Error{Code: apperr.Conflict, Err: ErrOrderInProgress,
				Message: fmt.Sprintf("Complete order %s before %s.", p.CallOffID, StepManage.Name())}
		}
		if err := setStep(ctx, tx, now, actorID, id, StepManage, Completed); err != nil {
			return err
		}
		return record(ctx, tx, now, actorID, "procurement.manage", id, nil,
			map[string]any{"order": p.LatestCallOffID, "order_status": p.OrderStatus, "on": dates.Today(now).Format(time.DateOnly)})
	})
}
