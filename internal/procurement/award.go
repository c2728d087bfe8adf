package procurement

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

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
// order rules, before anything is written, so that every problem is shown
// at once and beside the award form's own fields. The order functions
// check again as they write; a refusal there rolls the award back.
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
// It returns what it made: the order's call-off ID and the solution it
// orders.
//
// It is one transaction, with the procurement locked: the order, its
// item, the link, the step and every audit record commit together or not
// at all. A second award of the same version (a double click, a colleague)
// waits for the lock, then finds the version moved on and is refused.
func (s *Store) Award(ctx context.Context, a org.Actor, id int64, version int, in AwardInput) (Awarded, error) {
	now := s.now()
	var callOff string
	var won Solution
	err := s.edit(ctx, a.Scope, id, version, func(tx pgx.Tx, p Procurement) error {
		if err := p.checkOpen(StepAward); err != nil {
			return err
		}
		winner, d, err := checkAward(ctx, tx, now, p, in)
		if err != nil {
			return err
		}
		o, err := order.CreateTx(ctx, tx, now, a, d)
		if err != nil {
			return orderRefused(err, p, winner)
		}
		callOff, won = o.CallOffID(), winner
		if _, err := order.AddItemTx(ctx, tx, now, a, callOff, o.Version, winner.ItemID); err != nil {
			return orderRefused(err, p, winner)
		}
		if _, err := tx.Exec(ctx, `UPDATE procurements SET order_id = $2 WHERE id = $1`, id, o.ID); err != nil {
			return fmt.Errorf("link order %s to procurement %d: %w", callOff, id, err)
		}
		if err := setStep(ctx, tx, now, a.ID, id, StepAward, Completed); err != nil {
			return err
		}
		return record(ctx, tx, now, a.ID, "procurement.award", id, nil, map[string]any{
			"order": callOff, "item": winner.ItemID, "supplier": winner.SupplierID,
			"commencement": d.Commencement.Format(time.DateOnly), "initial_period": d.InitialPeriod, "maximum_term": d.MaximumTerm,
		})
	})
	if err != nil {
		return Awarded{}, err
	}
	return Awarded{CallOffID: callOff, Winner: won}, nil
}

// Awarded is what an award made: the call-off order, and the solution it
// orders.
type Awarded struct {
	CallOffID string
	Winner    Solution
}

// orderRefused puts the order package's refusal of the award's order into
// the award form's terms. checkAward has read the same things, so this
// happens only when the catalogue or the CCG changed in between: a
// problem with the order's supplier or item is the winner's.
func orderRefused(err error, p Procurement, winner Solution) error {
	var e *apperr.Error
	if !errors.As(err, &e) || e.Code != apperr.Invalid {
		return err
	}
	fields := map[string]string{}
	for k, v := range e.Fields {
		switch k {
		case order.FieldItem:
			fields[FieldWinner] = v
		case order.FieldSupplier:
			fields[FieldWinner] = fmt.Sprintf("%s is no longer a supplier on the catalogue, so %s cannot be ordered", winner.SupplierName, winner.Name)
		case order.FieldCCG:
			return apperr.New(apperr.Conflict, "%s (%s) is no longer an active CCG, so no order can be made for it.", p.CCGName, p.CCGCode)
		default:
			fields[k] = v
		}
	}
	if len(fields) == 0 {
		fields[FieldWinner] = e.Message
	}
	return invalid("The contract could not be awarded", fields)
}

// CompleteManage completes Manage your contract, once the award's order is
// completed: its services are then on the tracker.
func (s *Store) CompleteManage(ctx context.Context, a org.Actor, id int64, version int) error {
	now := s.now()
	return s.edit(ctx, a.Scope, id, version, func(tx pgx.Tx, p Procurement) error {
		if err := p.checkOpen(StepManage); err != nil {
			return err
		}
		if !p.OrderSigned() {
			return &apperr.Error{Code: apperr.Conflict, Err: ErrOrderInProgress,
				Message: fmt.Sprintf("Complete order %s before %s.", p.CallOffID, StepManage.Name())}
		}
		if err := setStep(ctx, tx, now, a.ID, id, StepManage, Completed); err != nil {
			return err
		}
		return record(ctx, tx, now, a.ID, "procurement.manage", id, nil,
			map[string]any{"order": p.LatestCallOffID, "order_status": p.OrderStatus, "on": dates.Today(now).Format(time.DateOnly)})
	})
}
